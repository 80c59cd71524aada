"""The Redis connection budget (docs/deploy.md): 500 sockets on two processes, each
following a reply generated on the other process, stay within
processes x (REDIS_MAX_CONNECTIONS + 1 stream reader +
REDIS_CHANNEL_LAYER_MAX_CONNECTIONS + REDIS_CACHE_MAX_CONNECTIONS),
counted by the Redis server itself (each pool names its connections)."""

import asyncio
import contextlib
import json

import pytest

from tests.resilience.services import PrivateRedis
from tests.resilience.stack import (
    hello,
    recv,
    send_frame,
    text_of,
    two_processes,
    until_end,
    ws_connect,
)
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(300, func_only=True),
]

FOLLOWERS = 500
MAX_CONNECTIONS = 5  # REDIS_MAX_CONNECTIONS's default
LAYER = 3  # REDIS_CHANNEL_LAYER_MAX_CONNECTIONS's default
CACHE = 1  # REDIS_CACHE_MAX_CONNECTIONS's default
BUDGET = 2 * (MAX_CONNECTIONS + 1 + LAYER + CACHE)
TOKENS = [f"w{i} " for i in range(80)]


async def watch_clients(server: PrivateRedis, seen: list[dict[str, int]]) -> None:
    while True:
        seen.append(await asyncio.to_thread(server.clients_by_name))
        await asyncio.sleep(0.2)


async def test_500_followers_on_two_processes_stay_within_the_budget(
    stack, fake_openai, private_redis
):
    stack.redis_url = private_redis.url
    fake_openai.default = Reply(tokens=TOKENS, delay=0.25)
    a, b, on_a, on_b = await two_processes(
        stack,
        CHAT_MAX_SOCKETS_PER_USER=FOLLOWERS + 10,
        CHAT_MAX_CONCURRENT_REPLIES=4,
        CHAT_RATE_LIMITS="100/1m",
    )
    counts: list[dict[str, int]] = []
    watcher = asyncio.create_task(watch_clients(private_redis, counts))
    async with contextlib.AsyncExitStack() as sockets:
        # Two replies generated on each process.
        starts = {}
        for process, client in ((a, on_a), (a, on_a), (b, on_b), (b, on_b)):
            ws = await sockets.enter_async_context(ws_connect(process, client))
            await hello(ws)
            await ws.send(send_frame("Count to eighty."))
            start = await recv(ws)
            assert start["type"] == "start", start
            starts.setdefault(process.name, []).append(start["message"])
        # Each follower on the process that does not generate what it follows.
        followers = []
        for i in range(FOLLOWERS):
            here, client, there = (a, on_a, b) if i % 2 else (b, on_b, a)
            ws = await sockets.enter_async_context(ws_connect(here, client))
            await hello(ws)
            message = starts[there.name][i // 2 % 2]
            await ws.send(json.dumps({"type": "join", "message": message, "after": 0}))
            followers.append(ws)
        results = await asyncio.gather(*(until_end(ws, wait=60) for ws in followers))
    watcher.cancel()
    await on_a.aclose()
    await on_b.aclose()
    full = "".join(TOKENS)
    assert all(text_of(frames) == full for frames in results)
    assert all(frames[-1]["status"] == "complete" for frames in results)
    peak = max(counts, key=lambda c: sum(c.values()))
    print(f"Redis clients: peak {sum(peak.values())} {peak}, budget {BUDGET}")
    assert sum(peak.values()) <= BUDGET, peak
    for seen in counts:
        assert seen.get("djchat:main", 0) <= 2 * MAX_CONNECTIONS, seen
        assert seen.get("djchat:reader", 0) <= 2, seen
        assert seen.get("djchat:layer", 0) <= 2 * LAYER, seen
        assert seen.get("djchat:cache", 0) <= 2 * CACHE, seen
