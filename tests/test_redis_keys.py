"""REDIS_KEY_PREFIX keeps two deployments on one Redis apart; the breaker steps aside
when Redis fails instead of failing the turn."""

import os
import uuid

import pytest
import redis

from chat import sockets
from chat.llm.breaker import RedisBreaker
from chat.redis_client import get_redis
from tests.conftest import need_service

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def live_redis(settings):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        need_service(f"Redis is not reachable at {REDIS_URL}")
    settings.REDIS_URL = REDIS_URL
    settings.REDIS_KEY_PREFIX = f"deploy-{uuid.uuid4().hex[:8]}"
    yield settings.REDIS_KEY_PREFIX
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


async def test_keys_live_under_the_deployments_prefix(live_redis, settings):
    await sockets.socket_register(user_id=7, channel_name="one")
    breaker = RedisBreaker()
    settings.CHAT_BREAKER_FAILURES = 1
    await breaker.failure("http://model.invalid/v1")
    keys = {k.decode() async for k in get_redis().scan_iter(match=f"{live_redis}:*")}
    assert f"{live_redis}:sockets:7" in keys
    assert f"{live_redis}:breaker:http://model.invalid/v1:open" in keys
    # Another deployment on the same Redis sees neither.
    settings.REDIS_KEY_PREFIX = "other-deployment"
    assert await breaker.allow("http://model.invalid/v1")


async def test_the_breaker_steps_aside_when_redis_is_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    breaker = RedisBreaker()
    assert await breaker.allow("http://model.invalid/v1") is True
    await breaker.failure("http://model.invalid/v1")
    await breaker.success("http://model.invalid/v1")
    await breaker.pause("http://model.invalid/v1", 5)
