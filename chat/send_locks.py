"""One send at a time per client id, across processes.

A resend is answered with the first send's turn: the database's uniqueness finds
it once stored, and a refused check looks it up. Between the two there is a gap:
the first send has passed the limits (holding the user's reply slot) but has not
stored its message yet, so a resend arriving on another process at that instant is
refused `busy` and finds nothing. Holding a short lock on (user, client id) around
the check-and-store closes the gap: the second waits for the first to store, then
finds its exchange like any later resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

from chat.redis_client import get_redis, redis_enabled, redis_key

log = logging.getLogger("chat.send_locks")

# Longer than a send's checks and store take; a holder that died frees it then.
LOCK_SECONDS = 15.0
# Past this a waiter goes on without the lock (the database still keeps one turn).
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.02

_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""
_local: dict[str, list] = {}


@contextlib.asynccontextmanager
async def send_lock(*, user_id: object, client_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold the lock for this user's client id while a send is checked and stored."""
    key = redis_key("send", user_id, client_id)
    if not redis_enabled():
        # [lock, holders and waiters]: dropped when the last of them is done.
        entry = _local.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if not entry[1]:
                _local.pop(key, None)
        return
    token = uuid.uuid4().hex
    held = await _acquire(key, token)
    try:
        yield
    finally:
        if held:
            with contextlib.suppress(Exception):
                await get_redis().eval(_RELEASE, 1, key, token)


async def _acquire(key: str, token: str) -> bool:
    """True once held; False when Redis fails or the wait runs out (go on without)."""
    client = get_redis()
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while True:
            if await client.set(key, token, nx=True, px=int(LOCK_SECONDS * 1000)):
                return True
            if time.monotonic() >= deadline:
                log.warning("send lock %s still held after %ss", key, WAIT_SECONDS)
                return False
            await asyncio.sleep(POLL_SECONDS)
    except Exception:
        log.warning("send lock unavailable", exc_info=True)
        return False
