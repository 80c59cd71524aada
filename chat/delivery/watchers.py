"""Who follows a reply, so that one nobody watches can be stopped after a grace
period (CHAT_UNWATCHED_REPLY_GRACE_SECONDS; 0, the default, lets every reply finish).

Followers count themselves in (a Redis counter shared by every process, or a dict
on the embedded default) while they forward a reply: a socket, a second tab, an SSE
client. The process generating the reply checks the count now and then. Every doubt
resolves towards finishing the reply: a count that cannot be read counts as
watched, and a follower whose process died stays counted until the key expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator

from django.conf import settings

from chat.delivery import get_hub
from chat.redis_client import get_redis, redis_enabled, redis_key

log = logging.getLogger("chat.watchers")

# Longer than any reply: a count left behind by a dead process ends with it.
KEY_TTL_SECONDS = 3600
_local: Counter[str] = Counter()


def _key(message_id: str) -> str:
    return redis_key("watchers", message_id)


@contextlib.asynccontextmanager
async def watching(message_id: str) -> AsyncIterator[None]:
    """Count the caller as a follower of this reply for the block's duration."""
    if not settings.CHAT_UNWATCHED_REPLY_GRACE_SECONDS:
        yield
        return
    counted = await _add(message_id, 1)
    try:
        yield
    finally:
        if counted:
            await asyncio.shield(_add(message_id, -1))


async def _add(message_id: str, step: int) -> bool:
    if not redis_enabled():
        _local[message_id] += step
        if _local[message_id] <= 0:
            del _local[message_id]
        return True
    try:
        async with get_redis().pipeline(transaction=True) as pipe:
            pipe.incrby(_key(message_id), step)
            pipe.expire(_key(message_id), KEY_TTL_SECONDS)
            await pipe.execute()
    except Exception:
        log.warning("could not count a follower of reply %s", message_id, exc_info=True)
        return False
    return True


async def watched(message_id: str) -> bool:
    if not redis_enabled():
        return _local[message_id] > 0
    try:
        return int(await get_redis().get(_key(message_id)) or 0) > 0
    except Exception:
        log.warning("could not read followers of reply %s", message_id, exc_info=True)
        return True


async def stop_when_unwatched(message_id: str, grace: float) -> None:
    """Stop the reply once nobody has followed it for `grace` seconds; the reply
    ends `cancelled` with its partial text, as if its page had pressed Stop. Runs
    beside the generation task and is cancelled when that ends."""
    clock = time.monotonic
    seen = clock()  # the socket that sent it starts following just after
    while True:
        await asyncio.sleep(min(max(grace / 4, 0.05), 5.0))
        if await watched(message_id):
            seen = clock()
        elif clock() - seen >= grace:
            log.info("stopping reply %s: nobody followed it for %ss", message_id, grace)
            await get_hub().request_stop(message_id)
            return
