"""Django's cache on Redis (allauth's rate limits, login lockouts) holds at most
REDIS_CACHE_MAX_CONNECTIONS per process, however many cache objects Django makes."""

from __future__ import annotations

import threading

import pytest
from django.core.cache.backends.redis import RedisCache

from chat import redis_cache
from chat.redis_client import connection_counts
from tests.servers import deployment

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url():
    if not deployment.redis_available():
        from tests.conftest import need_service

        need_service(f"Redis is not reachable at {deployment.REDIS_URL}")
    return deployment.REDIS_URL


def test_every_cache_object_shares_one_capped_pool(redis_url, settings):
    settings.REDIS_CACHE_MAX_CONNECTIONS = 2
    redis_cache._pools.pop(redis_url, None)

    def cache() -> RedisCache:
        # What Django makes for each thread and request context.
        return RedisCache(
            redis_url,
            {"OPTIONS": {"pool_class": "chat.redis_cache.SharedPool"}},
        )

    read: list[object] = []

    def work(index: int) -> None:
        one = cache()
        for n in range(20):
            one.set(f"test-redis-cache:{index}:{n}", n, 5)
            read.append(one.get(f"test-redis-cache:{index}:{n}"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(read) == sorted(list(range(20)) * 12)
    shared = redis_cache._pools[redis_url]
    assert {cache()._cache.get_client().connection_pool for _ in range(3)} == {shared}
    assert shared.max_connections == 2
    assert 1 <= connection_counts()["cache"] <= 2
    client = cache()._cache.get_client()
    assert client.client_getname() == "djchat:cache"
    redis_cache._pools.pop(redis_url).disconnect()
