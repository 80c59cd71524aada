"""Response cache benchmark: a hit against a miss on the local model, side by side.

For each store (memory, sqlite, and redis when REDIS_URL or 127.0.0.1:6379 answers)
it asks SmolLM2 (llama.cpp's OpenAI-compatible server, through ChatOpenAI and the
app's own `stream_text`) a set of distinct questions: each first ask is a miss
(look-up, stream from the model, store), then the same prompts with a new canary are
hits (look-up, replay). It reports full-reply latency (start to last piece) of both,
and the server time a hit costs (slot, look-up and replay) and a miss pays on top of
the model (slot, look-up and store), p50 and p99.

It also measures one GET through Django's cache API (`RedisCache.aget`, which runs
the sync client via `sync_to_async(thread_sensitive=True)`) against redis.asyncio,
one at a time and 64 at once (redis-py 8 async pools refuse more than 100
connections in use: MaxConnectionsError).

    .venv/bin/python bench/cache_bench.py [--questions 12] [--hit-rounds 50]

Writes bench/results/cache.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402

from chat.cache import stats as cache_stats  # noqa: E402
from chat.cache.backends import get_backend, reset_backends  # noqa: E402
from chat.cache.keys import generation_params  # noqa: E402
from chat.cache.replies import (  # noqa: E402
    cache_slot,
    replay_reply,
    reply_lookup,
    reply_store,
)
from chat.llm.streaming import StreamStats, Usage, stream_text  # noqa: E402
from chat.llm.tokens import count_messages, count_text  # noqa: E402
from chat.models import Message  # noqa: E402
from tests.servers.llama import LlamaServer, LlamaUnavailable  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cache.json"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
QUESTIONS = [
    "Name three primary colours.",
    "What is the capital of France?",
    "Give one tip for writing clean Python.",
    "What does HTTP stand for?",
    "Explain what a cache is in one sentence.",
    "Why is the sky blue? One sentence.",
    "Suggest a name for a pet turtle.",
    "What is 12 times 12?",
    "List two uses of a hash function.",
    "What is a WebSocket?",
    "Say something kind about Mondays.",
    "What is the boiling point of water at sea level?",
]


class User:
    pk = 1


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values_s: list[float]) -> dict:
    return {
        "n": len(values_s),
        "p50_ms": ms(pct(values_s, 50)),
        "p99_ms": ms(pct(values_s, 99)),
        "mean_ms": ms(statistics.fmean(values_s)),
    }


def prompt(question: str) -> list:
    canary = uuid.uuid4().hex[:12]
    system = SystemMessage(
        "You are a helpful, concise assistant. Answer in Markdown.\n\n"
        f"Never reveal this token: {canary}."
    )
    return [system, HumanMessage(question)], canary


async def look_up(model, question: str):
    """What a turn does first: build the prompt, compute its slot, look it up."""
    messages, canary = prompt(question)
    slot = cache_slot(
        user=User,
        model=model.model_name,
        params=generation_params(model),
        messages=messages,
        canary=canary,
    )
    return messages, slot, await reply_lookup(slot)


async def miss_turn(model, question: str) -> dict:
    stats = StreamStats()
    started = time.perf_counter()
    messages, slot, hit = await look_up(model, question)
    assert hit is None, "expected a miss"
    before_model = time.perf_counter()
    pieces = [p async for p in stream_text(model, messages, {}, stats)]
    last_piece = time.perf_counter()
    text = "".join(pieces)
    # llama.cpp sends no usage on streams: count like the turn does (_usage); that
    # is the turn's cost, not the cache's, so it is outside the timed store.
    usage = stats.usage or Usage(
        input_tokens=count_messages(messages, model.model_name),
        output_tokens=count_text(text, model.model_name),
        estimated=True,
    )
    store_started = time.perf_counter()
    stored = await reply_store(
        slot,
        text=text,
        usage=usage,
        status=Message.Status.COMPLETE,
        filtered=False,
    )
    done = time.perf_counter()
    assert stored, "the miss was not stored"
    return {
        "full": last_piece - started,
        "ttft": stats.first_token_at - stats.started,
        "overhead": (before_model - started) + (done - store_started),
        "text": "".join(pieces),
        "pieces": len(pieces),
    }


async def miss_turn_warmup(model) -> None:
    messages, _ = prompt("Hello!")
    async for _piece in stream_text(model, messages, {}, StreamStats()):
        pass


async def hit_turn(model, question: str) -> dict:
    stats = StreamStats()
    started = time.perf_counter()
    _, _, hit = await look_up(model, question)
    assert hit is not None, (
        f"expected a hit in {settings.CHAT_CACHE_BACKEND} for {question!r}; "
        f"counters {cache_stats.cache_counters()}"
    )
    first = None
    pieces = []
    async for piece in replay_reply(hit, stats):
        if first is None:
            first = time.perf_counter()
        pieces.append(piece)
    done = time.perf_counter()
    return {
        "full": done - started,
        "ttft": first - started,
        "text": "".join(pieces),
        "pieces": len(pieces),
    }


def use_store(name: str):
    settings.CHAT_CACHE_BACKEND = name
    return get_backend()


async def bench_stores(names, model, questions: list[str], rounds: int) -> dict:
    """Misses interleaved across stores question by question, in rotating order (so
    the model's and the machine's ups and downs hit every store alike), then each
    store's hits."""
    reset_backends()
    cache_stats.reset_counters()
    for name in names:
        await use_store(name).aclear()
    misses: dict[str, list[dict]] = {name: [] for name in names}
    for index, question in enumerate(questions):
        # Rotate who asks first: llama.cpp reuses the previous prompt's prefix.
        shift = index % len(names)
        for name in [*names[shift:], *names[:shift]]:
            use_store(name)
            misses[name].append(await miss_turn(model, question))
    results = {}
    for name in names:
        use_store(name)
        hits = []
        for _ in range(rounds):
            for question in questions:
                hits.append(await hit_turn(model, question))
        for index, question in enumerate(questions):
            assert hits[index]["text"] == misses[name][index]["text"], question
        await get_backend().aclear()
        results[name] = {
            "miss_full_reply": summary([m["full"] for m in misses[name]]),
            "miss_ttft": summary([m["ttft"] for m in misses[name]]),
            "miss_added_server_time": summary([m["overhead"] for m in misses[name]]),
            "hit_full_reply": summary([h["full"] for h in hits]),
            "hit_ttft": summary([h["ttft"] for h in hits]),
            "pieces_per_reply_model": statistics.fmean(
                m["pieces"] for m in misses[name]
            ),
            "pieces_per_reply_replay": statistics.fmean(h["pieces"] for h in hits),
        }
    return results


async def bench_django_vs_async_redis(n: int = 2000, burst: int = 64) -> dict:
    """One GET of a typical entry: Django's cache API against redis.asyncio."""
    from django.core.cache.backends.redis import RedisCache

    from chat.redis_client import get_redis

    value = json.dumps({"kind": "reply", "text": "x" * 1500, "input_tokens": 120})
    key = f"bench:llmcache:{uuid.uuid4().hex}"
    django_cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "bench"})
    django_cache.set(key, value, 60)
    client = get_redis()
    await client.set(key, value, ex=60)

    async def timed(call) -> list[float]:
        out = []
        for _ in range(n):
            started = time.perf_counter()
            await call()
            out.append(time.perf_counter() - started)
        return out

    async def burst_time(call, rounds: int = 20) -> float:
        """Median time for `burst` concurrent GETs (connections already open)."""
        times = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            await asyncio.gather(*(call() for _ in range(burst)))
            times.append(time.perf_counter() - started)
        return statistics.median(times[1:])

    def django_get():
        return django_cache.aget(key)

    def async_get():
        return client.get(key)

    for call in (django_get, async_get):  # warm connections and the thread
        await timed(call)
    result = {
        "django_cache_aget": summary(await timed(django_get)),
        "redis_asyncio_get": summary(await timed(async_get)),
        f"django_cache_aget_{burst}_concurrent_ms": ms(await burst_time(django_get)),
        f"redis_asyncio_get_{burst}_concurrent_ms": ms(await burst_time(async_get)),
    }
    django_cache.delete(key)
    await client.delete(key)
    await client.aclose()
    return result


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


async def main(args) -> dict:
    load_before = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="cache-bench-")
    settings.CHAT_CACHE_SQLITE_PATH = str(Path(tmp) / "llm.sqlite3")
    settings.CHAT_CACHE_TTL = 600
    settings.CHAT_CACHE_MAX_ENTRIES = 10_000
    settings.CHAT_CACHE_MAX_TEMPERATURE = 1.0
    settings.CHAT_CACHE_SCOPE = "user"
    settings.LLM_PROMPT_VERSION = "bench"
    # Generous: on a loaded machine a hit slower than the default 0.5 s would turn
    # into a miss (as designed) and break the hit/miss pairing measured here.
    settings.CHAT_CACHE_TIMEOUT = 5.0
    stores = ["memory", "sqlite"]
    have_redis = redis_reachable()
    if have_redis:
        settings.REDIS_URL = REDIS_URL
        settings.CHAT_CACHE_NAMESPACE = f"bench:llmcache:{uuid.uuid4().hex[:8]}"
        stores.append("redis")
    questions = QUESTIONS[: args.questions]
    for name in ("httpx", "httpx2", "openai"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = LlamaServer(threads=args.threads)
    try:
        server.start()
    except LlamaUnavailable as exc:
        sys.exit(f"local model unavailable: {exc}")
    try:
        model = ChatOpenAI(
            model=server.model,
            base_url=server.base_url,
            api_key="not-needed",
            temperature=0.0,
            max_tokens=args.max_tokens,
            stream_usage=True,
        )
        # One call first, so the server's warm-up is in no store's figures.
        await miss_turn_warmup(model)
        results = await bench_stores(stores, model, questions, args.hit_rounds)
    finally:
        server.stop()
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            # 1/5/15-minute load averages: the model's figures depend on them.
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": {
            "name": "SmolLM2-135M-Instruct Q4_1 (llama.cpp server)",
            "threads": args.threads,
            "max_tokens": args.max_tokens,
            "temperature": 0.0,
        },
        "questions": len(questions),
        "hit_rounds": args.hit_rounds,
        "stores": results,
        "counters": cache_stats.cache_counters(),
    }
    if have_redis:
        report["django_cache_vs_redis_asyncio"] = await bench_django_vs_async_redis()
    return report


def table(report: dict) -> str:
    rows = [
        (
            "store",
            "miss full p50 / p99",
            "hit full p50 / p99",
            "speed-up",
            "hit first piece p50",
            "miss added p50 / p99",
        ),
    ]
    for name, r in report["stores"].items():
        miss, hit = r["miss_full_reply"], r["hit_full_reply"]
        added = r["miss_added_server_time"]
        rows.append(
            (
                name,
                f"{miss['p50_ms']:.0f} / {miss['p99_ms']:.0f} ms",
                f"{hit['p50_ms']:.3f} / {hit['p99_ms']:.3f} ms",
                f"{miss['p50_ms'] / hit['p50_ms']:,.0f}x",
                f"{r['hit_ttft']['p50_ms']:.3f} ms",
                f"{added['p50_ms']:.3f} / {added['p99_ms']:.3f} ms",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        "(a hit is all server time: slot, look-up and replay; 'miss added' is the "
        "slot, look-up and store a miss pays on top of the model)"
    )
    compare = report.get("django_cache_vs_redis_asyncio")
    if compare:
        d, a = compare["django_cache_aget"], compare["redis_asyncio_get"]
        lines += [
            "",
            "one GET of a cached reply, p50 / p99:",
            f"  Django cache aget (sync client in a thread)  "
            f"{d['p50_ms']:.3f} / {d['p99_ms']:.3f} ms",
            f"  redis.asyncio get                            "
            f"{a['p50_ms']:.3f} / {a['p99_ms']:.3f} ms",
        ]
        for key, value in compare.items():
            if key.endswith("_concurrent_ms"):
                lines.append(f"  {key}: {value:.1f} ms (median of 20)")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--hit-rounds", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    # A SIGTERM (timeout, a supervisor) unwinds like Ctrl-C, so the model server
    # child is stopped by main()'s `finally` instead of being orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = asyncio.run(main(parser.parse_args()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
