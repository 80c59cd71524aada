"""The channel layer on Redis, within the connection budget (docs/deploy.md).

channels-redis opens a plain pool per host that grows with every concurrent group
change (each socket that connects or leaves) and never shrinks: 5 connections per
process when 250 sockets arrived. This layer gives it a blocking pool of
REDIS_CHANNEL_LAYER_MAX_CONNECTIONS instead: one held by the receive loop's blocking
read, the rest shared by sends and group changes, which wait briefly for a turn."""

from __future__ import annotations

import redis.asyncio as redis
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from django.conf import settings

# Longer than the receive loop's blocking read (5 s), which may hold a connection.
POOL_WAIT_SECONDS = 10


class RedisChannelLayer(BaseRedisChannelLayer):
    def create_pool(self, index: int) -> redis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return redis.BlockingConnectionPool.from_url(
            address,
            max_connections=settings.REDIS_CHANNEL_LAYER_MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            **host,
        )
