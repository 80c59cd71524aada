"""Choose the response-cache store from settings, at use time.

CHAT_CACHE_BACKEND = off | memory | sqlite | redis; unset or empty means redis when
REDIS_URL is set, memory otherwise. One instance per configuration, so the memory
store is shared by the whole process and a settings override picks a fresh one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from chat.cache.backends.base import CacheBackend
from chat.stores import StoreRegistry

log = logging.getLogger("chat.cache")

BACKENDS = ("off", "memory", "sqlite", "redis")

# Shared by the whole process (the Redis store takes the running loop's client per
# call), so the memory store is one per process.
_instances: StoreRegistry[CacheBackend] = StoreRegistry(per_loop=False)


def backend_name() -> str:
    """The configured store: off, memory, sqlite or redis."""
    name = settings.CHAT_CACHE_BACKEND
    if not name:
        return "redis" if settings.REDIS_URL else "memory"
    return name.strip().lower()


def sqlite_path() -> Path:
    path = settings.CHAT_CACHE_SQLITE_PATH
    return Path(path) if path else Path(settings.BASE_DIR) / ".cache" / "llm.sqlite3"


def namespace() -> str:
    return settings.CHAT_CACHE_NAMESPACE


def get_backend() -> CacheBackend | None:
    """The store for the current settings, or None when the cache is off (or its
    configuration cannot work: the system check reports why)."""
    name = backend_name()
    max_entries = int(settings.CHAT_CACHE_MAX_ENTRIES)
    if name == "memory":
        config: tuple = ("memory", max_entries)
    elif name == "sqlite":
        config = ("sqlite", str(sqlite_path()), max_entries)
    elif name == "redis" and settings.REDIS_URL:
        config = ("redis", namespace(), max_entries)
    else:
        return None
    return _instances.get(config, lambda: _build(config))


def _build(config: tuple) -> CacheBackend:
    kind = config[0]
    if kind == "memory":
        from chat.cache.backends.memory import MemoryBackend

        return MemoryBackend(max_entries=config[1])
    if kind == "sqlite":
        from chat.cache.backends.sqlite import SqliteBackend

        return SqliteBackend(path=config[1], max_entries=config[2])
    from chat.cache.backends.redis import RedisBackend

    return RedisBackend(namespace=config[1], max_entries=config[2])


def reset_backends() -> None:
    """Forget every instance (tests; a memory store's entries go with it)."""
    for backend in _instances.forget():
        close = getattr(backend, "close", None)
        if close is not None:
            close()
