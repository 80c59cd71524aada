"""The Redis hub: followers on the generating process read its in-process copy,
followers elsewhere read Redis with the same sequence numbers, and the stop
listener outlives a dropped subscription."""

import asyncio
import time
import uuid

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


def text_of(frames: list[dict]) -> str:
    return "".join(frame["text"] for frame in frames if frame["type"] == "delta")


async def test_followers_here_do_not_each_hold_a_redis_connection(live_redis):
    """More replies followed at once than the Redis pool has connections (100), as
    at 300 streams on one process: every follower on the generating process gets
    every frame at once, instead of waiting for a connection."""
    hub = RedisHub()
    replies = [str(uuid.uuid4()) for _ in range(250)]
    for reply in replies:
        hub.open(reply)

    async def follow(reply: str) -> list[dict]:
        return [frame async for frame in hub.follow(reply)]

    followers = [asyncio.create_task(follow(reply)) for reply in replies]
    words = [f"w{i} " for i in range(10)]
    for word in words:  # a token every 20 ms to every reply, as a model streams
        await asyncio.sleep(0.02)
        for reply in replies:
            hub.publish(reply, word)
    for reply in replies:
        hub.close(reply, {"type": "end", "message": reply, "status": "complete"})
    results = await asyncio.wait_for(asyncio.gather(*followers), timeout=3)
    for frames in results:
        assert text_of(frames) == "".join(words)
        assert frames[-1]["type"] == "end" and frames[-1]["seq"] == len(words)
    await hub.flush(within=5)


async def test_a_follower_elsewhere_reads_the_same_frames_from_redis(live_redis):
    """Another process (a hub of its own) replays and follows through Redis, with
    the sequence numbers the generating process gave."""
    here, elsewhere = RedisHub(), RedisHub()
    reply = str(uuid.uuid4())
    here.open(reply)
    here.publish(reply, "one ")
    joined = asyncio.create_task(
        asyncio.wait_for(_collect(elsewhere, reply), timeout=5)
    )
    await asyncio.sleep(0.1)
    here.publish(reply, "two")
    here.note(reply, {"type": "error", "code": "test"})
    here.close(reply, {"type": "end", "message": reply, "status": "complete"})
    frames = await joined
    assert text_of(frames) == "one two"
    assert [f["type"] for f in frames][-2:] == ["error", "end"]
    assert frames[-1]["seq"] == 2
    local = await _collect(here, reply)  # the in-process copy, same frames
    assert text_of(local) == "one two" and local[-1]["seq"] == 2


async def _collect(hub: RedisHub, reply: str) -> list[dict]:
    return [frame async for frame in hub.follow(reply)]


async def test_followers_elsewhere_cannot_starve_the_rest_of_the_app(
    live_redis, settings
):
    """Many more sockets following from another process than the app's pool has
    connections: they share the process's one stream reader, so the limits, the
    breaker and the stream writers still get a connection at once."""
    settings.REDIS_MAX_CONNECTIONS = 4
    here, elsewhere = RedisHub(), RedisHub()
    reply = str(uuid.uuid4())
    here.open(reply)
    await here.flush(within=0)
    await asyncio.sleep(0.1)  # the stream exists: followers elsewhere can block
    followers = [asyncio.create_task(_collect(elsewhere, reply)) for _ in range(110)]
    await asyncio.sleep(0.3)  # all blocked in XREAD
    assert await asyncio.wait_for(get_redis().ping(), timeout=1)
    here.publish(reply, "through")
    here.close(reply, {"type": "end", "message": reply, "status": "complete"})
    results = await asyncio.wait_for(asyncio.gather(*followers), timeout=8)
    assert all(text_of(frames) == "through" for frames in results)
    # This loop's pools: the reader's one connection, the main pool within its cap.
    assert get_redis(blocking_reads=True).connection_pool.open_connections() <= 1
    assert get_redis().connection_pool.open_connections() <= 4
