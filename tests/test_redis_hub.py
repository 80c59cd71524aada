"""The Redis hub's stop listener outlives a dropped subscription: a stop sent by
another process still reaches the reply generating here once it has resubscribed."""

import asyncio
import time

from chat.delivery import redis as redis_hub
from chat.delivery.redis import RedisHub
from chat.redis_client import get_redis


async def kill_listener_connections(since: float) -> int:
    """CLIENT KILL the pub/sub connections opened since `since` (this test's)."""
    client = get_redis()
    age = max(1, int(time.monotonic() - since) + 1)
    killed = 0
    for entry in await client.client_list(_type="pubsub"):
        if int(entry["age"]) <= age and int(entry.get("sub", 0)) > 0:
            killed += await client.client_kill_filter(_id=entry["id"])
    return killed


async def test_stop_listener_resubscribes_after_redis_drops_it(live_redis, monkeypatch):
    monkeypatch.setattr(redis_hub, "LISTEN_RETRY_SECONDS", (0.05, 0.2))
    began = time.monotonic()
    hub = RedisHub()
    reply = "reply-under-test"
    generating = asyncio.create_task(asyncio.sleep(60))
    hub.open(reply, task=generating)
    listener = hub._listener
    await asyncio.sleep(0.2)  # subscribed
    assert await kill_listener_connections(began) >= 1

    # As another process does: publish a stop until a subscriber receives it.
    deadline = time.monotonic() + 5
    while not generating.done() and time.monotonic() < deadline:
        await get_redis().publish(redis_hub.stop_channel(), reply)
        await asyncio.sleep(0.05)
    assert generating.cancelled()
    assert hub._listener is listener and not listener.done()  # the same task
    listener.cancel()
