"""Django's cache on Redis (allauth's rate limits and login lockouts) on one
connection pool per process, of at most REDIS_CACHE_MAX_CONNECTIONS.

Django makes a cache object, and with it a new pool, per thread and request
context; without this their connections would grow with the requests instead of
counting in the connection budget (docs/deploy.md). Past the cap a command waits
for a free connection (up to 5 s).
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_pools: dict[str, redis.BlockingConnectionPool] = {}
_lock = threading.Lock()


class SharedPool(redis.BlockingConnectionPool):
    """The pool class of CACHES["default"]: one pool per URL in this process."""

    @classmethod
    def from_url(cls, url: str, **options) -> SharedPool:
        with _lock:
            pool = _pools.get(url)
            if pool is None:
                pool = _pools[url] = super().from_url(
                    url,
                    max_connections=settings.REDIS_CACHE_MAX_CONNECTIONS,
                    timeout=5,
                    client_name="djchat:cache",
                    **options,
                )
        return pool


def open_connections() -> int:
    """Connections the cache's pools hold open (for /metrics)."""
    return sum(len(pool._connections) for pool in list(_pools.values()))
