"""Who is connected: a cap on sockets per user (across processes with Redis), and
closing every socket of a user who logs out."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from chat.errors import Busy
from chat.redis_client import get_redis, redis_enabled, redis_key

# A socket that stopped refreshing its entry (its process died) stops counting.
STALE_SECONDS = 300
_local: dict[int, dict[str, float]] = {}


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


async def socket_register(*, user_id: int, channel_name: str) -> None:
    """Count this socket for its user; Busy when the user has too many open."""
    cap = settings.CHAT_MAX_SOCKETS_PER_USER
    now = time.time()
    if redis_enabled():
        key = redis_key("sockets", user_id)
        async with get_redis().pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - STALE_SECONDS)
            pipe.zadd(key, {channel_name: now})
            pipe.zcard(key)
            pipe.expire(key, STALE_SECONDS)
            *_, count, _ = await pipe.execute()
    else:
        sockets = _local.setdefault(user_id, {})
        for name, seen in list(sockets.items()):
            if seen < now - STALE_SECONDS:
                del sockets[name]
        sockets[channel_name] = now
        count = len(sockets)
    if count > cap:
        await socket_unregister(user_id=user_id, channel_name=channel_name)
        raise Busy(f"Too many open chat windows (at most {cap}). Close one and retry.")


async def socket_unregister(*, user_id: int, channel_name: str) -> None:
    if redis_enabled():
        await get_redis().zrem(redis_key("sockets", user_id), channel_name)
    else:
        _local.get(user_id, {}).pop(channel_name, None)


async def user_broadcast(user_id: int, frame: dict) -> None:
    """Send a frame to every open socket of a user, in every process."""
    await get_channel_layer().group_send(
        user_group(user_id), {"type": "user.frame", "frame": frame}
    )


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    """Logging out ends the session for every open socket too."""
    if user is None:
        return
    async_to_sync(get_channel_layer().group_send)(
        user_group(user.pk), {"type": "session.ended"}
    )
