"""Delivery of replies to every socket that follows them, independent of the socket
that asked: a per-reply log of chunks with sequence numbers that any follower can
replay from a point and then follow live. In-process on the embedded default; Redis
Streams when REDIS_URL is set, so sockets on any process can follow any reply."""

from __future__ import annotations

from chat.delivery.base import Hub
from chat.delivery.memory import MemoryHub
from chat.delivery.redis import RedisHub
from chat.redis_client import redis_enabled
from chat.stores import StoreRegistry

__all__ = ["Hub", "get_hub"]

# Tasks and connections belong to one event loop (one per test, one in daphne).
_hubs: StoreRegistry[Hub] = StoreRegistry(per_loop=True)


def get_hub() -> Hub:
    """The hub for the configured backend, on the running loop."""
    if redis_enabled():
        return _hubs.get("redis", RedisHub)
    return _hubs.get("memory", MemoryHub)
