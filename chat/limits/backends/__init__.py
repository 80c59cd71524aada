"""Choose the limits backend: Redis when REDIS_URL is set (limits hold across every
process), else the in-process store (the embedded default, one process)."""

from __future__ import annotations

from django.conf import settings

from chat.limits.backends.base import BackendUnavailable, LimitsBackend
from chat.limits.backends.memory import MemoryBackend
from chat.limits.backends.redis import RedisBackend
from chat.redis_client import get_redis, redis_enabled
from chat.stores import StoreRegistry

__all__ = ["BackendUnavailable", "LimitsBackend", "get_backend", "memory_backend"]

# The in-process store is the process's own; a Redis backend holds a client of the
# loop that opened it: one per loop and URL.
_memory: StoreRegistry[MemoryBackend] = StoreRegistry(per_loop=False)
_redis: StoreRegistry[RedisBackend] = StoreRegistry(per_loop=True)


def memory_backend() -> MemoryBackend:
    return _memory.get("memory", MemoryBackend)


def get_backend() -> LimitsBackend:
    """The backend for the current settings, on the running loop."""
    if not redis_enabled():
        return memory_backend()
    return _redis.get(settings.REDIS_URL, lambda: RedisBackend(get_redis()))
