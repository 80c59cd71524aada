"""/readyz on a live daphne process with Redis channels: true while the process holds
many sockets, false while Redis is out, true again within seconds after."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest

from tests.resilience.stack import hello, logged_in, ws_connect

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(120, func_only=True),
]


async def readyz(process) -> tuple[int, dict]:
    async with httpx.AsyncClient(base_url=process.url, timeout=10) as client:
        response = await client.get("/readyz")
    return response.status_code, response.json()


async def test_ready_while_holding_200_open_sockets(stack):
    process = stack.daphne(CHAT_MAX_SOCKETS_PER_USER=500)
    client = await logged_in(process)
    async with contextlib.AsyncExitStack() as sockets:
        for _ in range(200):
            ws = await sockets.enter_async_context(ws_connect(process, client))
            await hello(ws)
        for _ in range(3):
            status, body = await readyz(process)
            assert status == 200, body
            assert body["checks"]["channel_layer"]["state"] == "ok"
            assert body["checks"]["redis"]["state"] == "ok"
    await client.aclose()


async def until_status(process, wanted: int, within: float) -> float:
    """Seconds until /readyz answers `wanted`; fails after `within`."""
    started = time.monotonic()
    body: dict = {}
    while time.monotonic() - started < within:
        status, body = await readyz(process)
        if status == wanted:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz not {wanted} within {within:g}s: {body}")


async def test_not_ready_during_a_redis_outage_and_ready_within_5s_after(
    stack, private_redis
):
    stack.redis_url = private_redis.url
    process = stack.daphne(CHAT_READY_TIMEOUT=1)
    client = await logged_in(process)
    async with ws_connect(process, client) as ws:
        await hello(ws)
        await until_status(process, 200, within=5)

        # Commands wait: a failover, or a server too busy to answer.
        private_redis.pause(4)
        paused_until = time.monotonic() + 4
        status, body = await readyz(process)
        assert status == 503, body
        assert body["checks"]["redis"]["state"] == "fail"
        await until_status(process, 200, within=paused_until - time.monotonic() + 5)

        # The server goes away and comes back on the same port.
        private_redis.stop()
        status, body = await readyz(process)
        assert status == 503, body
        assert body["checks"]["channel_layer"]["state"] == "fail"
        private_redis.start()
        await until_status(process, 200, within=5)
    await client.aclose()
