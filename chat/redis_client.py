"""The async Redis client for per-turn state (hub, limits, cache, breaker): one per
event loop, since connections belong to the loop that opened them."""

from __future__ import annotations

import redis.asyncio as redis
from django.conf import settings

from chat.stores import StoreRegistry

_clients: StoreRegistry[redis.Redis] = StoreRegistry(per_loop=True)


def redis_enabled() -> bool:
    return bool(settings.REDIS_URL)


def redis_key(*parts: object) -> str:
    """A key (or channel) in this deployment's namespace (REDIS_KEY_PREFIX)."""
    return ":".join((settings.REDIS_KEY_PREFIX, *map(str, parts)))


def get_redis(*, blocking_reads: bool = False) -> redis.Redis:
    """A client for REDIS_URL on the running loop; rediss:// follows
    REDIS_SSL_CERT_REQS (Heroku-style Redis uses self-signed certificates).

    `blocking_reads` is for sockets following a reply from another process: each
    holds a connection for seconds at a time in XREAD, so they draw from a pool of
    their own (REDIS_FOLLOWER_MAX_CONNECTIONS) and, however many they are, limits,
    the breaker and stream writers still get a connection."""
    url = settings.REDIS_URL
    return _clients.get((url, blocking_reads), lambda: _connect(url, blocking_reads))


def _connect(url: str, blocking_reads: bool) -> redis.Redis:
    options: dict = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "health_check_interval": 30,
    }
    if url.startswith("rediss://"):
        options["ssl_cert_reqs"] = settings.REDIS_SSL_CERT_REQS
    size = settings.REDIS_FOLLOWER_MAX_CONNECTIONS if blocking_reads else 100
    # Past max_connections a blocking pool waits instead of raising.
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=size, timeout=5, **options
    )
    return redis.Redis(connection_pool=pool)


async def close_clients() -> None:
    """Close the running loop's clients (a test's loop, before it ends)."""
    for client in _clients.forget():
        await client.aclose()
