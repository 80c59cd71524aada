"""Where the time to first delta goes on an idle server: each step of a turn, timed.

    .venv/bin/python -m bench.turn_steps [--turns 40] [--wal] [--coalesce-ms 8]
        [--cache-hits]

Runs real turns in-process (no WebSocket) against the bench endpoint, with the app's
settings (bench.app_settings) and a fresh SQLite database, one turn at a time. Every
function that chat.turns calls from chat.* (module globals and functions of the
chat modules it imports) is wrapped with a wall-clock timer, so the table follows
the pipeline as it grows without this file knowing its steps. Milestones: the turn
begins (`turn_begin`), the first text reaches the hub, the first delta frame leaves
the hub's follower (after its coalescing wait), and the reply is closed (`_finish`).
Writes bench/results/turn-steps.json (turn-steps-cache-hits.json with
--cache-hits).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("BENCH_WORKDIR", "/tmp/bench"))


def _setup(args: argparse.Namespace, upstream: str) -> None:
    db = WORK / "turn-steps.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-turn-steps-" + uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"sqlite:///{db}",
        OPENAI_BASE_URL=upstream,
        OPENAI_API_KEY="bench",
        LLM_MODEL="gpt-4o-mini",
        CHAT_INJECTION_POLICY="block",
        DJANGO_SETTINGS_MODULE="bench.app_settings",
        LOG_LEVEL="WARNING",
        CHAT_COALESCE_MS=str(args.coalesce_ms),
    )
    if args.wal:
        os.environ["BENCH_SQLITE_WAL"] = "1"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


class Timings:
    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.marks: dict[str, list[float]] = defaultdict(list)

    def wrap(self, name: str, fn):
        timings = self
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*a, **kw):
                t0 = time.perf_counter()
                first = True
                async for item in fn(*a, **kw):
                    if first:
                        timings.calls[f"{name} (to first item)"].append(
                            time.perf_counter() - t0
                        )
                        first = False
                    yield item
                timings.calls[f"{name} (whole)"].append(time.perf_counter() - t0)

            return agen
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def coro(*a, **kw):
                t0 = time.perf_counter()
                try:
                    return await fn(*a, **kw)
                finally:
                    timings.calls[name].append(time.perf_counter() - t0)

            return coro

        @functools.wraps(fn)
        def sync(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timings.calls[name].append(time.perf_counter() - t0)

        return sync


def instrument(timings: Timings) -> None:
    """Wrap what chat.turns calls: its chat.* globals and its chat modules' calls."""
    import types

    from chat import turns

    for name, obj in list(vars(turns).items()):
        if isinstance(obj, types.ModuleType) and obj.__name__.startswith("chat."):
            for attr, fn in list(vars(obj).items()):
                if callable(fn) and getattr(fn, "__module__", "") == obj.__name__:
                    if not isinstance(fn, type) and not attr.startswith("_"):
                        setattr(obj, attr, timings.wrap(f"{obj.__name__}.{attr}", fn))
        elif (
            callable(obj)
            and not isinstance(obj, type)
            and getattr(obj, "__module__", "").startswith("chat.")
            and getattr(obj, "__module__", "") != "chat.turns"
        ):
            setattr(turns, name, timings.wrap(f"{obj.__module__}.{name}", obj))
    for name in ("turn_begin", "_finish"):
        setattr(turns, name, timings.wrap(f"chat.turns.{name}", getattr(turns, name)))


async def run_turns(count: int, timings: Timings, *, cache_hits: bool = False) -> None:
    from django.contrib.auth import get_user_model

    from chat import turns
    from chat.delivery import get_hub

    user, _ = await get_user_model().objects.aget_or_create(username="bench-steps")
    for i in range(count + 2):
        record = i >= 2  # two warm-up turns
        t0 = time.perf_counter()
        turn = await turns.turn_begin(
            user=user,
            client_id=uuid.uuid4(),
            conversation_id=None,
            # The same text every time: every turn after the first is a cache hit.
            content="k=20 rate=0 first=0"
            if cache_hits
            else f"k=20 rate=0 first=0 n={uuid.uuid4().hex[:8]}",
        )
        t_begun = time.perf_counter()
        hub = get_hub()
        turns.turn_start(turn)
        first_frame = None
        async for frame in hub.follow(turn.reply_id, after=0):
            if first_frame is None and frame.get("type") == "delta":
                first_frame = time.perf_counter()
            if frame.get("type") == "end":
                break
        t_end = time.perf_counter()
        if record:
            timings.marks["turn_begin done"].append(t_begun - t0)
            if first_frame:
                timings.marks["first delta frame out of the hub"].append(
                    first_frame - t0
                )
            timings.marks["end frame out of the hub"].append(t_end - t0)
        else:
            timings.calls.clear()


def table(timings: Timings, count: int) -> str:
    lines = [
        "| step | calls per turn | mean ms | p50 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for name, values in timings.marks.items():
        lines.append(
            f"| **{name}** (from the start of the turn) | 1 | "
            f"{1000 * statistics.fmean(values):.2f} | "
            f"{1000 * statistics.median(values):.2f} | {1000 * max(values):.2f} |"
        )
    rows = sorted(timings.calls.items(), key=lambda kv: -sum(kv[1]))
    for name, values in rows:
        lines.append(
            f"| {name} | {len(values) / count:.1f} | "
            f"{1000 * statistics.fmean(values):.2f} | "
            f"{1000 * statistics.median(values):.2f} | {1000 * max(values):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--wal", action="store_true", help="SQLite in WAL mode")
    parser.add_argument("--coalesce-ms", type=float, default=8.0)
    parser.add_argument(
        "--cache-hits", action="store_true", help="the same text each turn: hits"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.procs import Child, raise_priority, wait_json_line

    WORK.mkdir(parents=True, exist_ok=True)
    raise_priority()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = str(ROOT)
    endpoint = Child(
        [sys.executable, "-m", "bench.endpoint", "--max-seconds", "600"],
        env=env,
        cpu=1,
        log=WORK / "turn-steps-endpoint.log",
        cwd=ROOT,
    )
    try:
        port = wait_json_line(endpoint)["port"]
        _setup(args, f"http://127.0.0.1:{port}/v1")
        os.sched_setaffinity(0, {0})
        timings = Timings()
        instrument(timings)
        asyncio.run(run_turns(args.turns, timings, cache_hits=args.cache_hits))
    finally:
        endpoint.stop()
    text = table(timings, args.turns)
    print(text)
    name = "turn-steps-cache-hits" if args.cache_hits else "turn-steps"
    out = ROOT / f"bench/results/{name}.json"
    out.write_text(
        json.dumps(
            {
                "turns": args.turns,
                "wal": args.wal,
                "coalesce_ms": args.coalesce_ms,
                "cache_hits": args.cache_hits,
                "marks_ms": {
                    k: [round(1000 * v, 3) for v in vs]
                    for k, vs in timings.marks.items()
                },
                "calls_ms": {
                    k: [round(1000 * v, 3) for v in vs]
                    for k, vs in timings.calls.items()
                },
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
