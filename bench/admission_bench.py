"""Admission benchmark: what the limits add to a turn, against a bare Redis round trip.

It times, in one run and on one connection pool:
  - PING: one bare Redis round trip (the floor any shared limiter pays);
  - check: admit(wait_upstream=False): the per-user rate, concurrency and budget
    check with its hold, one Lua script;
  - admit: the whole admission (check, then an upstream slot with RPM, TPM and
    in-flight limits set, uncontended: a second script);
  - settle: giving back both slots and charging usage (two scripts);
sequentially and with 32 turns at once, on Redis and (for reference) in process.
Every turn is preceded by a timed PING on the same pool, so both see the same load
on the machine; each latency is reported as p50 and p99, and as a ratio to the PING
at the same percentile of the same run. Users rotate over 50 ids; budget counters
are seeded beforehand so no database is involved.

    .venv/bin/python bench/admission_bench.py [--iterations 5000]

Writes bench/results/admission.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import redis.asyncio as redis  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.limits import Policy, RateRule, admit  # noqa: E402
from chat.limits.backends import get_backend  # noqa: E402
from chat.limits.backends.memory import STORE  # noqa: E402
from chat.limits.budgets import periods_for  # noqa: E402
from chat.limits.clock import get_clock  # noqa: E402
from chat.limits.keys import user_keys  # noqa: E402
from chat.redis_client import get_redis  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "admission.json"
ENDPOINT = "https://bench.invalid/v1"
USERS = 50
CONCURRENCY = 32
POLICY = Policy(
    rate_rules=(RateRule(10**9, 60),),  # checked on every call, never refusing
    max_concurrent=1,
    tokens_per_day=10**12,
    tokens_per_month=10**13,
    cost_per_day=Decimal(10**6),
    cost_per_month=Decimal(10**7),
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> dict:
    us = [s * 1e6 for s in seconds]
    return {
        "n": len(us),
        "p50_us": round(pct(us, 50), 1),
        "p99_us": round(pct(us, 99), 1),
        "mean_us": round(statistics.fmean(us), 1),
    }


def with_ratio(stats: dict, ping: dict) -> dict:
    return {
        **stats,
        "p50_x_ping": round(stats["p50_us"] / ping["p50_us"], 2),
        "p99_x_ping": round(stats["p99_us"] / ping["p99_us"], 2),
    }


async def seed_counters() -> None:
    backend, now = get_backend(), get_clock().now()
    for user in range(USERS):
        for period in periods_for(POLICY, user_keys(user), now):
            counter = period.counter
            await backend.counter_seed(
                key=counter.key, tokens=0, cost=0, ttl=counter.ttl
            )


async def turn(user: int, timings: dict) -> None:
    """One turn's limits, timed: admit, then settle."""
    started = time.perf_counter()
    admission = await admit(
        user=user,
        endpoint=ENDPOINT,
        estimated_input_tokens=400,
        reply_cap_tokens=512,
        estimated_cost=Decimal("0.0004"),
        policy=POLICY,
        wait_upstream=False,
    )
    checked = time.perf_counter()
    await admission.wait_upstream()
    admitted = time.perf_counter()
    await admission.settle(input_tokens=400, output_tokens=200, cost=Decimal("0.0003"))
    settled = time.perf_counter()
    timings["check"].append(checked - started)
    timings["admit"].append(admitted - started)
    timings["settle"].append(settled - admitted)


async def run_turns(
    client: redis.Redis | None, iterations: int, concurrency: int
) -> dict:
    """Timed turns, each after a timed PING when a client is given."""
    timings = {"ping": [], "check": [], "admit": [], "settle": []}
    per_worker = iterations // concurrency

    async def worker(index: int) -> None:
        # Each worker has its own users, so the one-reply-at-a-time rule holds.
        users = [u for u in range(USERS) if u % concurrency == index % USERS]
        for i in range(per_worker):
            if client is not None:
                started = time.perf_counter()
                await client.ping()
                timings["ping"].append(time.perf_counter() - started)
            await turn(users[i % len(users)], timings)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return timings


async def bench_backend(kind: str, client: redis.Redis, iterations: int) -> dict:
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if kind == "memory":
        settings.REDIS_URL = ""
        client = None
    await seed_counters()
    await run_turns(client, min(500, iterations), 1)  # warm up: scripts, pools
    out = {}
    for label, concurrency in (
        ("sequential", 1),
        (f"concurrent_{CONCURRENCY}", CONCURRENCY),
    ):
        timings = await run_turns(client, iterations, concurrency)
        pings = timings.pop("ping")
        stats = {name: summary(values) for name, values in timings.items()}
        if pings:
            ping = summary(pings)
            stats = {name: with_ratio(step, ping) for name, step in stats.items()}
            stats = {"ping": ping, **stats}
        out[label] = stats
    return out


async def main(args) -> dict:
    prefix = f"bench:limits:{uuid.uuid4().hex[:8]}"
    settings.CHAT_LIMITS_KEY_PREFIX = prefix
    settings.CHAT_LIMITS_ENABLED = True
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 10**6
    settings.CHAT_UPSTREAM_RPM = 10**9
    settings.CHAT_UPSTREAM_TPM = 10**12
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = get_redis()
    info = await client.info("server")
    try:
        backends = {
            "redis": await bench_backend("redis", client, args.iterations),
            "memory": await bench_backend("memory", client, args.iterations),
        }
    finally:
        settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.delete(*keys[i : i + 500])
        STORE.delete_prefix(prefix)
        await client.aclose()
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "redis": info.get("redis_version"),
        },
        "iterations": args.iterations,
        "backends": backends,
    }


def table(report: dict) -> str:
    lines = [
        f"{'backend':8} {'load':14} {'step':8} {'p50 µs':>9} {'p99 µs':>9} "
        f"{'p50 ×PING':>10} {'p99 ×PING':>10}",
    ]
    for backend, results in report["backends"].items():
        for label, steps in results.items():
            for step, s in steps.items():
                ratios = f"{'-':>10} {'-':>10}"
                if backend == "redis":
                    p50, p99 = s.get("p50_x_ping", 1), s.get("p99_x_ping", 1)
                    ratios = f"{p50:10.2f} {p99:10.2f}"
                lines.append(
                    f"{backend:8} {label:14} {step:8} {s['p50_us']:9.1f} "
                    f"{s['p99_us']:9.1f} {ratios}"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000)
    report = asyncio.run(main(parser.parse_args()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
