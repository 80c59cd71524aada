"""The stream-path benchmark of issue 10: baselines and the app, one machine, one run.

    .venv/bin/python -m bench.run            # full run, about 15 minutes
    .venv/bin/python -m bench.run --quick    # about 3 minutes

Starts the bench endpoint (bench/endpoint.py) and, per variant, a server pinned to
core 0; the load generator (bench/loadgen.py) and the endpoint share core 1. Writes
bench/results/run-<time>.json and bench/results/latest.json, prints the table, and
with --readme rewrites the results section of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from bench import report
from bench.procs import (
    Child,
    cpu_seconds,
    free_port,
    raise_priority,
    wait_json_line,
    wait_port,
)

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv/bin/python")
WORK = Path(os.environ.get("BENCH_WORKDIR", "/tmp/bench"))
RESULTS = ROOT / "bench/results"
SERVER_CPU, CLIENT_CPU = 0, 1


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    server: str  # daphne | daphne_uvloop | uvicorn | granian | supervisor
    asgi: str
    env: dict = field(default_factory=dict)
    app: bool = False
    processes: int = 1  # more than one: bin/web's supervisor, on every core


# Production mode for the processes × streams scenario: the reply hub, limits and
# sockets on Redis (BENCH_REDIS_URL, default database 6 on loopback; a database
# of the bench's own, emptied before each server starts).
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
TOGGLES = "bench.app_toggles:application"


VARIANTS = {
    "b1": Variant(
        "b1",
        "(1) Channels+SDK daphne",
        "daphne",
        "bench.baselines.channels_asgi:application",
        {"BENCH_SOURCE": "openai"},
    ),
    "b2": Variant(
        "b2",
        "(2) Channels+astream_events daphne",
        "daphne",
        "bench.baselines.channels_asgi:application",
        {"BENCH_SOURCE": "events"},
    ),
    "b3": Variant(
        "b3",
        "(3) Starlette+SDK uvicorn",
        "uvicorn",
        "bench.baselines.starlette_asgi:application",
        {"BENCH_SOURCE": "openai"},
    ),
    # As bin/web serves it: daphne on uvloop.
    "app": Variant(
        "app", "app daphne", "daphne_uvloop", "chatproject.asgi:application", app=True
    ),
    "app_uv": Variant(
        "app_uv", "app uvicorn", "uvicorn", "chatproject.asgi:application", app=True
    ),
    "b2_uv": Variant(
        "b2_uv",
        "(2) on uvicorn",
        "uvicorn",
        "bench.baselines.channels_asgi:application",
        {"BENCH_SOURCE": "events"},
    ),
    # Each change of issue 22's stream path switched back off, one at a time.
    "app_httpx": Variant(
        "app_httpx",
        "app, SDK on httpx",
        "daphne_uvloop",
        TOGGLES,
        {"LLM_HTTP_CLIENT": "httpx"},
        app=True,
    ),
    "app_json": Variant(
        "app_json",
        "app, stdlib json frames",
        "daphne_uvloop",
        TOGGLES,
        {"BENCH_OFF": "orjson"},
        app=True,
    ),
    "app_unbounded": Variant(
        "app_unbounded",
        "app, every chunk held",
        "daphne_uvloop",
        TOGGLES,
        {"BENCH_OFF": "bounded"},
        app=True,
    ),
    "app_chunkwait": Variant(
        "app_chunkwait",
        "app, LangChain's per-chunk wait_for",
        "daphne_uvloop",
        TOGGLES,
        {"BENCH_OFF": "chunk_timeout"},
        app=True,
    ),
    "app_asyncio": Variant(
        "app_asyncio",
        "app daphne on asyncio's loop",
        "daphne",
        "chatproject.asgi:application",
        app=True,
    ),
    "app_gr": Variant(
        "app_gr",
        "app granian",
        "granian",
        "chatproject.asgi:application",
        app=True,
    ),
    # Processes × streams, in production mode (Redis): one process, then two on
    # one port through bin/web's supervisor, not pinned (the load generator and
    # the endpoint share core 1 with the second process).
    "app_r1": Variant(
        "app_r1",
        "app, Redis, 1 process",
        "daphne_uvloop",
        "chatproject.asgi:application",
        {"REDIS_URL": BENCH_REDIS_URL},
        app=True,
    ),
    "app_r2": Variant(
        "app_r2",
        "app, Redis, 2 processes",
        "supervisor",
        "chatproject.asgi:application",
        {"REDIS_URL": BENCH_REDIS_URL, "WEB_CONCURRENCY": "2"},
        app=True,
        processes=2,
    ),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    connections: int
    streams: int
    k: int = 100
    rate: float = 50.0
    first: float = 0.0
    rounds: int = 1
    spread: float = 0.0
    timeout: float = 120.0
    group: str = "main"  # scenarios of a group share one fresh server process
    app_only: bool = False
    same_content: bool = False
    text: str = ""  # the message to send instead of the endpoint's parameters

    @property
    def content(self) -> str:
        return self.text or f"k={self.k} rate={self.rate:g} first={self.first:g}"


def scenarios(quick: bool) -> list[Scenario]:
    """In run order. Paced streams start spread over one reply's length, so about
    `streams` replies are in flight at once; fast ones start together."""
    if quick:
        return [
            Scenario("paced300", 300, 300, k=20, spread=0.4, timeout=45),
            Scenario("paced1", 1, 1, k=30),
            Scenario("paced20", 20, 20, k=50, spread=1.0),
            Scenario("paced100", 100, 100, k=50, spread=1.0, timeout=45),
            Scenario("fast1", 1, 1, k=100, rate=0),
            Scenario("fast300", 300, 300, k=20, rate=0, timeout=45),
            Scenario("idle", 300, 0, group="mem"),
            Scenario("mixed", 300, 60, k=30, spread=0.6, group="mem"),
        ]
    # Every variant here saturates its core well below 300 paced streams (see the
    # README), so the big scenarios use short replies to stay within the time.
    return [
        Scenario("paced300", 300, 300, k=50, spread=1.0, timeout=90),
        Scenario("paced1", 1, 1, rounds=3),
        Scenario("paced20", 20, 20, rounds=3, spread=2.0),
        Scenario("paced100", 100, 100, rounds=2, spread=2.0, timeout=90),
        Scenario("paced100_first300", 100, 100, k=50, first=300, spread=1.0),
        Scenario("fast1", 1, 1, k=200, rate=0, rounds=3),
        Scenario("fast300", 300, 300, k=100, rate=0, timeout=90),
        Scenario("paced500", 500, 500, k=50, spread=1.0, timeout=120),
        Scenario("idle", 1000, 0, group="mem"),
        Scenario(
            "mixed", 1000, 200, k=50, rounds=2, spread=1.0, timeout=90, group="mem"
        ),
    ]


CACHE_SCENARIOS = [
    # The same text twice: the first fills the cache, the second should hit it.
    Scenario(
        "cache_fill",
        1,
        1,
        k=100,
        rate=0,
        rounds=1,
        same_content=True,
        group="cache",
        app_only=True,
    ),
    Scenario(
        "cache_hit",
        1,
        1,
        k=100,
        rate=0,
        rounds=5,
        same_content=True,
        group="cache",
        app_only=True,
    ),
]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        WORK.mkdir(parents=True, exist_ok=True)
        self.endpoint: Child | None = None
        self.endpoint_port = 0
        self.sessions: list[str] = []
        self.app_env: dict[str, str] = {}

    # -- processes ---------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env["PYTHONPATH"] = str(ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start_endpoint(self) -> None:
        self.endpoint = Child(
            [
                PY,
                "-m",
                "bench.endpoint",
                "--cpu",
                str(CLIENT_CPU),
                "--max-seconds",
                "3600",
            ],
            env=self.base_env(),
            cpu=CLIENT_CPU,
            log=WORK / "endpoint.log",
            cwd=ROOT,
        )
        self.endpoint_port = wait_json_line(self.endpoint)["port"]

    def upstream_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}/v1"

    def prepare_app(self, upstream: str, model: str = "gpt-4o-mini") -> None:
        """The environment of issue 10, a fresh SQLite database, users and sessions."""
        db = WORK / "db.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env = self.base_env()
        env.update(
            DEBUG="0",
            SECRET_KEY="bench-" + secrets.token_urlsafe(32),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=f"sqlite:///{db}",
            OPENAI_BASE_URL=upstream,
            OPENAI_API_KEY="bench",
            LLM_MODEL=model,
            CHAT_INJECTION_POLICY="block",
            DJANGO_SETTINGS_MODULE="bench.app_settings",
            LOG_LEVEL="WARNING",
        )
        env.update(self.args.app_env)
        self.app_env = env
        for argv in (
            # --run-syncdb: tables for apps that have no migrations yet.
            [PY, "manage.py", "migrate", "--run-syncdb", "--noinput", "-v", "0"],
            [
                PY,
                "-m",
                "bench.app_users",
                str(self.max_connections()),
                str(WORK / "sessions.json"),
            ],
        ):
            done = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            if done.returncode:
                raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
        self.sessions = json.loads((WORK / "sessions.json").read_text())

    def max_connections(self) -> int:
        return max(s.connections for s in scenarios(self.args.quick))

    def start_server(self, variant: Variant, upstream: str) -> tuple[Child, int]:
        port = free_port()
        if variant.env.get("REDIS_URL"):
            # Its own database: replies cached by an earlier run would be stale.
            import redis

            redis.Redis.from_url(variant.env["REDIS_URL"]).flushdb()
        if variant.app:
            env = dict(self.app_env)
            env.update(variant.env)
        else:
            env = self.base_env()
            env.update(OPENAI_BASE_URL=upstream, OPENAI_API_KEY="bench")
            env.update(variant.env)
        env.update(self.args.server_env)
        if variant.server == "daphne":
            argv = [
                str(ROOT / ".venv/bin/daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                variant.asgi,
            ]
        elif variant.server == "daphne_uvloop":
            argv = [PY, "-m", "chatproject.daphne_uvloop", "-b", "127.0.0.1", "-p"]
            argv += [str(port), variant.asgi]
        elif variant.server == "supervisor":
            argv = [PY, "-m", "chatproject.supervisor", "--host", "127.0.0.1"]
            argv += ["--port", str(port), "--", PY, "-m", "chatproject.daphne_uvloop"]
            argv += ["--fd", "{fd}", variant.asgi]
        elif variant.server == "granian":
            argv = [str(ROOT / ".venv/bin/granian"), "--interface", "asgi"]
            argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            argv += ["--loop", "auto", "--no-access-log", "--log-level", "warning"]
            argv += [variant.asgi]
        else:
            argv = [
                str(ROOT / ".venv/bin/uvicorn"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
                # As bin/web serves it (the legacy `websockets` layer is deprecated).
                "--ws",
                "websockets-sansio",
                "--no-access-log",
                "--log-level",
                "warning",
                variant.asgi,
            ]
        child = Child(
            argv,
            env=env,
            cpu=SERVER_CPU if variant.processes == 1 else None,
            log=WORK / f"server-{variant.key}.log",
            cwd=ROOT,
        )
        wait_port(port, child)
        return child, port

    # -- one load ------------------------------------------------------------------
    def load(
        self,
        variant: Variant,
        server: Child,
        port: int,
        sc: Scenario,
        *,
        tokens: int | None = None,
    ) -> dict:
        cfg = {
            "port": port,
            "origin": f"http://127.0.0.1:{port}",
            "cookies": self.sessions if variant.app else [],
            "connections": sc.connections,
            "streams": sc.streams,
            "rounds": sc.rounds,
            "content": sc.content,
            "tokens": sc.k if tokens is None else tokens,
            "spread": sc.spread,
            "server_pid": server.pid,
            "cpu": CLIENT_CPU,
            "timeout": sc.timeout,
            "same_content": sc.same_content,
            "stamped": tokens is None,
            "settle": 0.3 if self.args.quick else 1.0,
        }
        cfg_path = WORK / "loadgen-config.json"
        out = WORK / "loadgen-out.json"
        cfg_path.write_text(json.dumps(cfg))
        out.unlink(missing_ok=True)
        ep0 = cpu_seconds(self.endpoint.pid) if self.endpoint else 0.0
        t0 = time.monotonic()
        done = subprocess.run(
            [PY, "-m", "bench.loadgen", str(cfg_path), str(out)],
            cwd=ROOT,
            env=self.base_env(),
            capture_output=True,
            text=True,
            timeout=sc.timeout + 120,
        )
        wall = time.monotonic() - t0
        if done.returncode or not out.exists():
            raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
        result = json.loads(out.read_text())
        if self.endpoint:
            result["endpoint_cpu_util"] = round(
                (cpu_seconds(self.endpoint.pid) - ep0) / wall, 3
            )
        busy = (result.get("core_busy_util") or {}).get(str(SERVER_CPU))
        if busy is not None:
            # CPU that other processes took on the server's core during the window.
            result["foreign_server_core_util"] = round(
                max(0.0, busy - result.get("server_cpu_util", 0)), 3
            )
        if not server.alive():
            result["server_died"] = server.tail()
        return result

    def warm(self, variant: Variant, server: Child, port: int) -> None:
        """Imports, pools and caches: a few replies that are not recorded."""
        warm = Scenario("warm", 8, 8, k=20, rate=0, rounds=2, timeout=60)
        self.load(variant, server, port, warm)

    # -- a variant -------------------------------------------------------------------
    def run_variant(self, variant: Variant, plan: list[Scenario]) -> dict:
        results: dict[str, dict] = {}
        groups: dict[str, list[Scenario]] = {}
        for sc in plan:
            if sc.app_only and not variant.app:
                continue
            groups.setdefault(sc.group, []).append(sc)
        for items in groups.values():
            server, port = self.start_server(variant, self.upstream_url())
            try:
                self.warm(variant, server, port)
                for sc in items:
                    t = time.monotonic()
                    before = redis_stats(variant)
                    try:
                        res = self.load(variant, server, port, sc)
                    except Exception as exc:  # report and go on to the next
                        res = {"failed": str(exc)[-2000:]}
                    add_redis_figures(res, before, redis_stats(variant))
                    res["scenario"] = asdict(sc)
                    results[sc.name] = res
                    self.say(
                        f"  {variant.key:7} {sc.name:18} "
                        f"{report.one_line(res)} ({time.monotonic() - t:.0f}s)"
                    )
                    if not server.alive():
                        self.say(f"  server died:\n{server.tail()}")
                        break
            finally:
                server.stop()
        return results

    def run_llama(self) -> dict:
        """The app and baseline (2) against the real local model, a few replies."""
        sys.path.insert(0, str(ROOT))
        from tests.servers.llama import LlamaServer, LlamaUnavailable

        out: dict = {}
        try:
            llama = LlamaServer(threads=1).start()
        except LlamaUnavailable as exc:
            return {"skipped": str(exc)[:500]}
        try:
            os.sched_setaffinity(llama.process.pid, {CLIENT_CPU})
        except OSError:
            pass
        try:
            # One stream at a time: llama.cpp on one thread makes ~25 tokens/s.
            # (llama-cpp-python ignores max_completion_tokens, which langchain-openai
            # sends for LLM_MAX_TOKENS, so the prompt asks for a short answer.)
            sc = Scenario(
                "llama",
                1,
                1,
                rounds=3,
                timeout=240,
                text=("In one short sentence: why is the sky blue?"),
            )
            saved = self.args.server_env
            self.args.server_env = {
                **saved,
                "LLM_MODEL": llama.model,
                "LLM_MAX_TOKENS": "64",
                "LLM_TIMEOUT": "120",
            }
            for key in ("b2", "app"):
                variant = VARIANTS[key]
                if variant.app:
                    self.prepare_app(llama.base_url, model=llama.model)
                server, port = self.start_server(variant, llama.base_url)
                try:
                    # Imports and pools on a first, unrecorded reply.
                    self.load(variant, server, port, replace(sc, rounds=1), tokens=-1)
                    res = self.load(variant, server, port, sc, tokens=-1)
                finally:
                    server.stop()
                res["scenario"] = asdict(sc)
                out[key] = res
                self.say(f"  {key:7} llama              {report.one_line(res)}")
            self.args.server_env = saved
        finally:
            llama.stop()
        return out

    def say(self, text: str) -> None:
        print(text, flush=True)


def redis_stats(variant: Variant) -> dict | None:
    """Redis's commands processed and CPU seconds so far, for Redis variants."""
    url = variant.env.get("REDIS_URL")
    if not url:
        return None
    import redis

    info = redis.Redis.from_url(url).info()
    return {
        "commands": info["total_commands_processed"],
        "cpu": info["used_cpu_user"] + info["used_cpu_sys"],
    }


def add_redis_figures(res: dict, before: dict | None, after: dict | None) -> None:
    """Redis commands and Redis CPU per delivered token over the load (the whole
    server: other databases' clients count too, so on a quiet Redis only)."""
    tokens = res.get("tokens") or 0
    if before is None or after is None or not tokens:
        return
    res["redis_commands_per_token"] = round(
        (after["commands"] - before["commands"]) / tokens, 2
    )
    res["redis_cpu_us_per_token"] = round(
        (after["cpu"] - before["cpu"]) / tokens * 1e6, 1
    )


def app_ready(env: dict[str, str]) -> str | None:
    """None when `manage.py check` passes with the bench settings, else why not."""
    done = subprocess.run(
        [PY, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return None if done.returncode == 0 else (done.stderr or done.stdout)[-1500:]


def cache_available() -> bool:
    """Whether the turn pipeline serves replies from the response cache yet."""
    text = (ROOT / "chat/turns.py").read_text()
    return "replay_reply" in text


def parse_env(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, _, value = item.partition("=")
        out[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 3 minutes")
    parser.add_argument(
        "--variants",
        default="b1,b2,b3,app,app_uv",
        help=f"comma-separated, from {','.join(VARIANTS)}",
    )
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-llama", action="store_true")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="rewrite the results section of bench/README.md",
    )
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the app (e.g. CHAT_COALESCE_MS=4)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every server",
    )
    parser.add_argument("--tag", default="", help="a word for the results file name")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="directory for the results files (default bench/results)",
    )
    args = parser.parse_args(argv)
    args.app_env = parse_env(args.app_env)
    args.server_env = parse_env(args.server_env)
    if os.cpu_count() < 2:
        print("needs two cores: one for the server, one for client and endpoint")
        return 2

    raise_priority()
    bench = Bench(args)
    started = time.time()
    plan = scenarios(args.quick)
    if args.only:
        names = set(args.only.split(","))
        plan = [s for s in plan if s.name in names]
    keys = [k for k in args.variants.split(",") if k]
    run: dict = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "pinning": {"server": SERVER_CPU, "loadgen_and_endpoint": CLIENT_CPU},
        "app_env": args.app_env,
        "server_env": args.server_env,
        "variants": {k: asdict(VARIANTS[k]) for k in keys},
        "results": {},
        "notes": [],
    }
    bench.start_endpoint()
    try:
        if any(VARIANTS[k].app for k in keys):
            bench.prepare_app(bench.upstream_url())
            why = app_ready(bench.app_env)
            if why:
                run["notes"].append(f"app skipped: manage.py check failed: {why}")
                bench.say(f"app not ready, skipped:\n{why}")
                keys = [k for k in keys if not VARIANTS[k].app]
            elif cache_available():
                plan = plan + CACHE_SCENARIOS
            else:
                run["notes"].append(
                    "cache scenarios skipped: no response cache in chat/turns.py yet"
                )
        for key in keys:
            bench.say(f"{VARIANTS[key].label}")
            run["results"][key] = bench.run_variant(VARIANTS[key], plan)
        if not args.no_llama and not args.only:
            bench.say("real local model (SmolLM2 through llama.cpp)")
            run["llama"] = bench.run_llama()
    finally:
        if bench.endpoint:
            bench.endpoint.stop()
    run["duration_s"] = round(time.time() - started, 1)
    run["machine"]["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    name = f"run-{stamp}{'-' + args.tag if args.tag else ''}.json"
    for path in (args.out / name, args.out / "latest.json"):
        path.write_text(json.dumps(run, indent=1))
    table = report.markdown(run)
    print()
    print(table)
    if args.readme:
        report.update_readme(ROOT / "bench/README.md", table, name)
    print(f"\nresults: {args.out / name} ({run['duration_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
