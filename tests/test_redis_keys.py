"""REDIS_KEY_PREFIX keeps two deployments on one Redis apart; the breaker steps aside
when Redis fails instead of failing the turn."""

import uuid

from chat import sockets
from chat.delivery.redis import RedisHub
from chat.llm.breaker import RedisBreaker
from chat.redis_client import get_redis


async def test_keys_live_under_the_deployments_prefix(live_redis, settings):
    await sockets.socket_register(user_id=7, channel_name="one")
    breaker = RedisBreaker()
    settings.CHAT_BREAKER_FAILURES = 1
    await breaker.failure("http://model.invalid/v1")
    hub, reply = RedisHub(), str(uuid.uuid4())
    hub.open(reply)
    hub.publish(reply, "Hello")
    hub.close(reply, {"type": "end", "message": reply})
    await hub.flush(within=5)
    keys = {k.decode() async for k in get_redis().scan_iter(match=f"{live_redis}:*")}
    assert f"{live_redis}:sockets:7" in keys
    assert f"{live_redis}:breaker:http://model.invalid/v1:open" in keys
    assert f"{live_redis}:reply:{reply}" in keys
    # Another deployment on the same Redis sees none of them.
    settings.REDIS_KEY_PREFIX = "other-deployment"
    assert await breaker.allow("http://model.invalid/v1")
    assert not await RedisHub().knows(reply)  # a process of the other deployment


async def test_the_breaker_steps_aside_when_redis_is_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    breaker = RedisBreaker()
    assert await breaker.allow("http://model.invalid/v1") is True
    await breaker.failure("http://model.invalid/v1")
    await breaker.success("http://model.invalid/v1")
    await breaker.pause("http://model.invalid/v1", 5)
