"""Where a server's CPU goes per delivered token: py-spy under one scenario's load.

    .venv/bin/python -m bench.profile --variants b2,app --scenario fast300

Samples the server process (all threads, idle samples dropped) with py-spy while the
load generator runs the scenario, then attributes every sample to the innermost
frame that belongs to a library or to our code (stdlib frames count for whoever
called them, except the event loop's own). Per bucket it prints the share and the
µs per delivered token (share × server CPU per token), so two servers compare line by
line. Raw stacks stay in /tmp/bench/profile-<variant>-<scenario>.txt for
speedscope or flame graphs; the summary goes to bench/results/profile-*.json.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import run as runner
from bench.procs import raise_priority, thread_cpu_seconds

# (bucket, start of a frame's file path as py-spy prints it: relative to its
# sys.path entry, so "chat/turns.py" is ours and "openai/resources/chat/..." is not).
# The first match from the leaf wins.
OWNERS: list[tuple[str, str]] = [
    ("openai SDK: model construction", "openai/_models.py"),
    ("openai SDK: SSE decode", "openai/_streaming.py"),
    ("openai SDK: other", "openai/"),
    ("HTTP client (httpx/httpcore/h11/anyio)", "httpx"),
    ("HTTP client (httpx/httpcore/h11/anyio)", "httpcore/"),
    ("HTTP client (httpx/httpcore/h11/anyio)", "h11/"),
    ("HTTP client (httpx/httpcore/h11/anyio)", "anyio/"),
    ("langchain_openai", "langchain_openai/"),
    ("langchain_core: callbacks and tracers", "langchain_core/callbacks/"),
    ("langchain_core: callbacks and tracers", "langchain_core/tracers/"),
    ("langchain_core: messages and outputs", "langchain_core/messages/"),
    ("langchain_core: messages and outputs", "langchain_core/outputs/"),
    ("langchain_core: other", "langchain_core/"),
    ("langsmith", "langsmith/"),
    ("pydantic", "pydantic"),
    ("chat.delivery (hub, follower)", "chat/delivery/"),
    ("chat.guards (filters)", "chat/guards/"),
    ("chat.limits", "chat/limits/"),
    ("chat.cache", "chat/cache/"),
    ("chat.llm", "chat/llm/"),
    ("chat.consumers", "chat/consumers.py"),
    ("chat.turns", "chat/turns.py"),
    ("chat.protocol", "chat/protocol.py"),
    ("chat: other", "chat/"),
    ("bench baseline code", "bench/"),
    ("Django ORM and DB", "django/db/"),
    ("Django other", "django/"),
    ("Channels", "channels/"),
    ("asgiref (sync_to_async)", "asgiref/"),
    ("daphne", "daphne"),
    ("autobahn (WebSocket)", "autobahn/"),
    ("Twisted", "twisted/"),
    ("txaio", "txaio/"),
    ("uvicorn", "uvicorn/"),
    ("websockets", "websockets/"),
    ("starlette", "starlette/"),
    ("tiktoken", "tiktoken"),
    ("markdown and nh3 rendering", "markdown_it/"),
    ("markdown and nh3 rendering", "nh3"),
    ("JSON (json, orjson)", "json/"),
    ("JSON (json, orjson)", "orjson"),
    ("sqlite", "sqlite3/"),
    ("Python GC / allocation", "<gc>"),
]
_STDLIB = set(sys.stdlib_module_names)


def _path_of(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)".
    start = frame.rfind(" (")
    return frame[start + 2 : -1] if start >= 0 else frame


def attribute(stack: list[str]) -> str:
    """The bucket of one sampled stack (root first).

    Stdlib frames count for the nearest library or app caller, except that reaching
    the event loop's `_run_once` first means the loop itself was working.
    """
    for frame in reversed(stack):
        path = _path_of(frame)
        for bucket, prefix in OWNERS:
            if path.startswith(prefix):
                return bucket
        if "_run_once" in frame or frame.startswith("EpollSelector.select"):
            return "asyncio event loop"
        top = path.split("/", 1)[0].removesuffix(".py")
        if top in _STDLIB:
            continue
    return "other"


def summarise(raw: Path) -> dict:
    buckets: Counter[str] = Counter()
    chat_fns: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count = int(count_text)
        stack = stack_text.split(";")
        total += count
        buckets[attribute(stack)] += count
        seen = set()
        for frame in stack:
            if _path_of(frame).startswith("chat/") and frame not in seen:
                seen.add(frame)
                chat_fns[frame] += count
    return {
        "samples": total,
        "buckets": dict(buckets.most_common()),
        "chat_inclusive": dict(chat_fns.most_common(25)),
    }


def profile_variant(
    bench: runner.Bench, key: str, sc: runner.Scenario, rate: int
) -> dict:
    variant = runner.VARIANTS[key]
    server, port = bench.start_server(variant, bench.upstream_url())
    raw = runner.WORK / f"profile-{key}-{sc.name}.txt"
    raw.unlink(missing_ok=True)
    try:
        bench.warm(variant, server, port)
        spy = subprocess.Popen(
            [
                str(runner.ROOT / ".venv/bin/py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
                "--duration",
                str(int(sc.timeout)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        threads0 = thread_cpu_seconds(server.pid)
        res = bench.load(variant, server, port, sc)
        threads1 = thread_cpu_seconds(server.pid)
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    finally:
        server.stop()
    summary = summarise(raw) if raw.exists() else {"samples": 0, "buckets": {}}
    summary["result"] = res
    # Ground truth beside the samples: CPU per thread from /proc. The event loop
    # runs in the main thread (tid == pid); Django's sync_to_async work (database)
    # runs in the others.
    tokens = max(res.get("tokens") or 0, 1)
    main_key = next((k for k in threads1 if k.split()[0] == str(server.pid)), None)
    main = threads1.get(main_key, 0) - threads0.get(main_key, 0)
    total = sum(threads1.values()) - sum(threads0.get(k, 0) for k in threads1)
    summary["thread_cpu_us_per_token"] = {
        "event loop thread": round(main * 1e6 / tokens, 1),
        "other threads": round((total - main) * 1e6 / tokens, 1),
    }
    return summary


def table(profiles: dict[str, dict]) -> str:
    keys = list(profiles)
    buckets: Counter[str] = Counter()
    for prof in profiles.values():
        n = max(prof["samples"], 1)
        for bucket, count in prof["buckets"].items():
            buckets[bucket] += count / n
    head = ["where (innermost library frame)"]
    for k in keys:
        head += [f"{k} %", f"{k} µs/tok"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for bucket, _ in buckets.most_common():
        row = [bucket]
        for k in keys:
            prof = profiles[k]
            share = prof["buckets"].get(bucket, 0) / max(prof["samples"], 1)
            per_token = prof["result"].get("cpu_us_per_token") or 0
            row += [f"{100 * share:.1f}", f"{share * per_token:.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    total = ["total (server CPU µs/token)"]
    for k in keys:
        total += ["100", f"{profiles[k]['result'].get('cpu_us_per_token')}"]
    lines.append("| " + " | ".join(total) + " |")
    for part in ("event loop thread", "other threads"):
        row = [f"of which {part} (from /proc)"]
        for k in keys:
            row += ["", f"{profiles[k].get('thread_cpu_us_per_token', {}).get(part)}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="b2,app")
    parser.add_argument("--scenario", default="fast300")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--app-env", action="append", default=[])
    parser.add_argument("--server-env", action="append", default=[])
    args = parser.parse_args(argv)
    args.app_env = runner.parse_env(args.app_env)
    args.server_env = runner.parse_env(args.server_env)
    plan = {s.name: s for s in runner.scenarios(args.quick)}
    sc = plan[args.scenario]
    raise_priority()
    bench = runner.Bench(args)
    bench.start_endpoint()
    profiles: dict[str, dict] = {}
    try:
        keys = args.variants.split(",")
        if any(runner.VARIANTS[k].app for k in keys):
            bench.prepare_app(bench.upstream_url())
        for key in keys:
            profiles[key] = profile_variant(bench, key, sc, args.rate)
            res = profiles[key]["result"]
            print(
                f"{key}: {profiles[key]['samples']} samples, "
                f"{res.get('cpu_us_per_token')} µs/token, "
                f"{res.get('tokens_per_s')} tokens/s, server core use "
                f"{res.get('server_cpu_util')}, others on that core "
                f"{res.get('foreign_server_core_util')}",
                flush=True,
            )
    finally:
        bench.endpoint.stop()
    out = runner.RESULTS / f"profile-{args.scenario}-{'-'.join(profiles)}.json"
    out.write_text(json.dumps(profiles, indent=1))
    print(table(profiles))
    for key, prof in profiles.items():
        if prof.get("chat_inclusive"):
            print(f"\n{key}: inclusive samples per chat/ function (% of all)")
            for fn, count in list(prof["chat_inclusive"].items())[:20]:
                print(f"  {100 * count / max(prof['samples'], 1):5.1f}  {fn}")
    print(f"\nsummary: {out.relative_to(runner.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
