"""The final save of a reply, retried while the database is away.

A reply that finished during a database outage (a failover, a restart) used to be
shown in full and then lost: one failed write ended it `failed`, its row stayed
`streaming` with an old checkpoint and was swept, empty, minutes later. The text is
safe meanwhile: the reply's log (its Redis stream, or the process's memory) keeps
it and its followers keep waiting for the end. So the save is tried again with
backoff for up to CHAT_FINAL_SAVE_SECONDS, on a fresh connection each time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

log = logging.getLogger("chat.final_save")

FIRST_DELAY = 0.25
MAX_DELAY = 5.0


async def save_with_retry[T](save: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run `save` until it succeeds, or raise its last database error once
    CHAT_FINAL_SAVE_SECONDS have passed."""
    deadline = time.monotonic() + settings.CHAT_FINAL_SAVE_SECONDS
    delay = FIRST_DELAY
    attempt = 1
    while True:
        try:
            return await save()
        except DatabaseError as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning(
                "saving %s failed (attempt %d: %s); again in %.2f s",
                what,
                attempt,
                type(exc).__name__,
                delay,
            )
        await asyncio.sleep(delay)
        # The failed connection is dropped, so the next try opens a fresh one.
        await sync_to_async(close_old_connections)()
        delay = min(delay * 2, MAX_DELAY)
        attempt += 1
