"""The async Redis clients for per-turn state (hub, limits, cache, breaker): one set
per event loop, since connections belong to the loop that opened them.

Connections are a budget: a small managed Redis allows a few dozen for all dynos
together. Per process the app opens at most REDIS_MAX_CONNECTIONS on its main pool
(commands wait for a free one rather than opening more; the reply-stop
subscription holds one of them) plus one for the stream reader that serves every
socket following a reply from another process (chat/delivery/streams.py). Pooled
connections idle for REDIS_IDLE_SECONDS are closed. Django's cache has a small
pool of its own (chat/redis_cache.py). docs/deploy.md gives the formula.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref

import redis.asyncio as redis
from django.conf import settings

from chat import redis_cache
from chat.stores import StoreRegistry

_clients: StoreRegistry[redis.Redis] = StoreRegistry(per_loop=True)
_pools: weakref.WeakSet[_Pool] = weakref.WeakSet()
_reapers: set[asyncio.Task] = set()


def redis_enabled() -> bool:
    return bool(settings.REDIS_URL)


def redis_key(*parts: object) -> str:
    """A key (or channel) in this deployment's namespace (REDIS_KEY_PREFIX)."""
    return ":".join((settings.REDIS_KEY_PREFIX, *map(str, parts)))


class _Pool(redis.BlockingConnectionPool):
    """A blocking pool that remembers when each connection was last given back, so
    idle ones can be closed."""

    purpose = "main"

    async def release(self, connection) -> None:
        connection.chat_released_at = time.monotonic()
        await super().release(connection)

    def close_idle(self, idle_seconds: float) -> list:
        """Take connections idle for longer out of the pool (to disconnect them)."""
        cutoff = time.monotonic() - idle_seconds
        idle = [
            c
            for c in self._available_connections
            if c.is_connected and getattr(c, "chat_released_at", 0) < cutoff
        ]
        for connection in idle:
            self._available_connections.remove(connection)
        return idle

    def open_connections(self) -> int:
        in_use = list(self._in_use_connections)
        return sum(c.is_connected for c in [*in_use, *self._available_connections])


def get_redis(*, blocking_reads: bool = False) -> redis.Redis:
    """A client for REDIS_URL on the running loop; rediss:// follows
    REDIS_SSL_CERT_REQS (Heroku-style Redis uses self-signed certificates).

    `blocking_reads` is for the process's one stream reader: its XREAD blocks,
    so it has a connection of its own and commands never wait behind it."""
    url = settings.REDIS_URL
    return _clients.get((url, blocking_reads), lambda: _connect(url, blocking_reads))


def _connect(url: str, blocking_reads: bool) -> redis.Redis:
    purpose = "reader" if blocking_reads else "main"
    options: dict = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "health_check_interval": 30,
        # Named, so CLIENT LIST shows what holds each connection.
        "client_name": f"djchat:{purpose}",
    }
    if url.startswith("rediss://"):
        options["ssl_cert_reqs"] = settings.REDIS_SSL_CERT_REQS
    size = 1 if blocking_reads else settings.REDIS_MAX_CONNECTIONS
    # Past max_connections a blocking pool waits instead of raising.
    pool = _Pool.from_url(url, max_connections=size, timeout=5, **options)
    pool.purpose = purpose
    _pools.add(pool)
    task = asyncio.get_running_loop().create_task(
        _close_idle(weakref.ref(pool)), name="redis-idle"
    )
    _reapers.add(task)
    task.add_done_callback(_reapers.discard)
    return redis.Redis(connection_pool=pool)


async def _close_idle(pool_ref: weakref.ref) -> None:
    """Close this pool's connections that nobody used for REDIS_IDLE_SECONDS."""
    while True:
        idle_seconds = settings.REDIS_IDLE_SECONDS
        await asyncio.sleep(max(idle_seconds / 4, 0.25))
        pool = pool_ref()
        if pool is None:
            return
        for connection in pool.close_idle(idle_seconds):
            with contextlib.suppress(Exception):
                await connection.disconnect()
        del pool


def connection_counts() -> dict[str, int]:
    """Open connections of this process's pools, by purpose (for /metrics)."""
    counts = {"main": 0, "reader": 0, "cache": redis_cache.open_connections()}
    for pool in list(_pools):
        counts[pool.purpose] += pool.open_connections()
    return counts


async def close_clients() -> None:
    """Close the running loop's clients (a test's loop, before it ends)."""
    for client in _clients.forget():
        await client.aclose()
