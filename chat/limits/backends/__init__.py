"""Choose the limits backend: Redis when REDIS_URL is set (limits hold across every
process), else the in-process store (the embedded default, one process)."""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings

from chat.limits.backends.base import BackendUnavailable, LimitsBackend
from chat.limits.backends.memory import MemoryBackend
from chat.redis_client import get_redis, redis_enabled

__all__ = ["BackendUnavailable", "LimitsBackend", "get_backend", "memory_backend"]

_memory = MemoryBackend()
# Redis connections belong to the loop that opened them: one backend per loop and URL.
_redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict] = (
    weakref.WeakKeyDictionary()
)


def memory_backend() -> MemoryBackend:
    return _memory


def get_backend() -> LimitsBackend:
    """The backend for the current settings, on the running loop."""
    if not redis_enabled():
        return _memory
    from chat.limits.backends.redis import RedisBackend

    per_loop = _redis.setdefault(asyncio.get_running_loop(), {})
    backend = per_loop.get(settings.REDIS_URL)
    if backend is None:
        backend = per_loop[settings.REDIS_URL] = RedisBackend(get_redis())
    return backend
