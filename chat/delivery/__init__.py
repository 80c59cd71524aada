"""Delivery of replies to every socket that follows them, independent of the socket
that asked: a per-reply log of chunks with sequence numbers that any follower can
replay from a point and then follow live. In-process on the embedded default; Redis
Streams when REDIS_URL is set, so sockets on any process can follow any reply."""

from __future__ import annotations

import asyncio

from chat.delivery.memory import MemoryHub
from chat.redis_client import redis_enabled

_hubs: dict[str, object] = {}


def get_hub():
    """The process's hub for the configured backend."""
    kind = "redis" if redis_enabled() else "memory"
    # Tasks and connections belong to one event loop (one per test, one in daphne).
    key = f"{kind}:{id(asyncio.get_running_loop())}"
    hub = _hubs.get(key)
    if hub is None:
        if kind == "redis":
            from chat.delivery.redis import RedisHub

            hub = RedisHub()
        else:
            hub = MemoryHub()
        _hubs[key] = hub
    return hub
