"""CPU per token of each piece of the stream path, each change on and off, in one
process (no server, no sockets to clients): the provider stream through the openai
SDK on httpx or on aiohttp, the same under `astream_events` (on plain ChatOpenAI;
on chat/llm/bounded_stream.py's, which merges held chunks as it goes; and on that
with LangChain's per-chunk `wait_for` off, as the app builds it), on
asyncio's loop or uvloop, and a delta frame encoded by the stdlib or orjson.

    .venv/bin/python -m bench.stream_path [--tokens 2000] [--streams 20] [--repeat 3]

Streams read the bench endpoint (bench/endpoint.py, as fast as possible) on another
core; the figure is this process's CPU time (user + system) per token, the best of
`--repeat` runs, so other load on a shared machine inflates it as little as it can.
Prints a Markdown table and writes bench/results/stream-path.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv/bin/python")


def start_endpoint(cpu: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [PY, "-m", "bench.endpoint", "--port", "0", "--cpu", str(cpu)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = json.loads(proc.stdout.readline())["port"]
    return proc, port


async def sdk_stream(client, model: str, k: int) -> int:
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": f"k={k} rate=0"}],
        stream=True,
    )
    n = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            n += 1
    return n


async def events_stream(llm, k: int) -> int:
    n = 0
    async for event in llm.astream_events([("user", f"k={k} rate=0")], version="v2"):
        if event["event"] == "on_chat_model_stream" and event["data"]["chunk"].content:
            n += 1
    return n


def make_http(transport: str):
    import openai

    if transport == "aiohttp":
        return openai.DefaultAioHttpClient()
    return openai.DefaultAsyncHttpxClient()


async def one_run(kind: str, transport: str, url: str, k: int, streams: int) -> float:
    import openai
    from langchain_openai import ChatOpenAI

    http = make_http(transport)
    if kind == "sdk":
        client = openai.AsyncOpenAI(base_url=url, api_key="bench", http_client=http)

        def go():
            return sdk_stream(client, "bench", k)
    else:
        cls, extra = ChatOpenAI, {}
        if kind in ("bounded", "app"):
            from chat.llm.bounded_stream import BoundedChatOpenAI as cls
        if kind == "app":  # as chat/llm/chat_models.py builds it
            extra = {"stream_chunk_timeout": None}
        llm = cls(
            **extra,
            model="bench",
            base_url=url,
            api_key="bench",
            http_async_client=http,
            max_retries=0,
        )

        def go():
            return events_stream(llm, k)

    await go()  # warm: imports, connections
    t0 = time.process_time()
    counts = await asyncio.gather(*(go() for _ in range(streams)))
    cpu = time.process_time() - t0
    await http.aclose()
    return cpu / sum(counts) * 1e6


def run_case(kind, transport, loop, url, k, streams, repeat) -> float:
    best = float("inf")
    for _ in range(repeat):
        if loop == "uvloop":
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        else:
            runner = asyncio.Runner()
        with runner:
            best = min(best, runner.run(one_run(kind, transport, url, k, streams)))
    return best


async def held_bytes(bounded: bool, url: str, k: int) -> int:
    """Bytes a stream of k tokens holds two tokens before its end (tracemalloc)."""
    import gc
    import tracemalloc

    from langchain_openai import ChatOpenAI

    from chat.llm.bounded_stream import BoundedChatOpenAI

    cls = BoundedChatOpenAI if bounded else ChatOpenAI
    llm = cls(model="bench", base_url=url, api_key="bench", max_retries=0)
    await events_stream(llm, 20)  # warm
    gc.collect()
    tracemalloc.start()
    base, held, n = tracemalloc.get_traced_memory()[0], 0, 0
    async for event in llm.astream_events([("user", f"k={k} rate=0")], version="v2"):
        if event["event"] == "on_chat_model_stream":
            n += 1
            if n == k - 2:
                gc.collect()
                held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return held


async def all_held_bytes(url: str) -> dict[str, int]:
    return {
        f"{'bounded' if bounded else 'plain'}/{k}": await held_bytes(bounded, url, k)
        for bounded in (False, True)
        for k in (50, 200)
    }


def encode_cost(repeat: int = 5) -> dict[str, float]:
    """µs to encode one delta frame, stdlib json against orjson."""
    import orjson

    frame = {"type": "delta", "message": "5f1c0e4a-3b8e-4c1e-9d0a-1f2e3d4c5b6a",
             "seq": 42, "text": " token"}  # fmt: skip
    n = 200_000

    def stdlib():
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)

    def fast():
        return orjson.dumps(frame).decode()

    out = {}
    for name, fn in (("json", stdlib), ("orjson", fast)):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.process_time()
            for _ in range(n):
                fn()
            best = min(best, (time.process_time() - t0) / n * 1e6)
        out[name] = round(best, 3)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {0})
    endpoint, port = start_endpoint(1)
    url = f"http://127.0.0.1:{port}/v1"
    rows = {}
    try:
        cases = [
            (kind, transport, loop)
            for kind in ("sdk", "events")
            for transport in ("httpx", "aiohttp")
            for loop in ("asyncio", "uvloop")
        ] + [
            ("bounded", "httpx", "asyncio"),
            ("app", "httpx", "asyncio"),
            ("app", "aiohttp", "asyncio"),
            ("app", "aiohttp", "uvloop"),
        ]
        for kind, transport, loop in cases:
            us = run_case(
                kind,
                transport,
                loop,
                url,
                args.tokens // args.streams,
                args.streams,
                args.repeat,
            )
            rows[f"{kind}/{transport}/{loop}"] = round(us, 1)
            print(f"{kind:7} {transport:8} {loop:8} {us:7.1f} µs/token")
        memory = asyncio.run(all_held_bytes(url))
        for name, value in memory.items():
            print(f"held by one stream, {name} tokens: {value / 1024:.0f} KiB")
    finally:
        endpoint.kill()
    encode = encode_cost()
    print(f"delta frame encode: {encode} µs")
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "tokens": args.tokens,
        "streams": args.streams,
        "repeat": args.repeat,
        "us_per_token": rows,
        "encode_us": encode,
        "held_bytes": memory,
    }
    out = ROOT / "bench/results/stream-path.json"
    out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
