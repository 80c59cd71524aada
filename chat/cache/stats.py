"""Counters of what the response cache did in this process, and how a failing store
is reported: each failure counts, but only the first of an outage is logged (and
the recovery), so a Redis outage does not write one warning per turn."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Awaitable

from django.conf import settings

log = logging.getLogger("chat.cache")

# hits, misses, stores, skipped (policy refused to store), bypassed (cache off or
# temperature above the limit), errors (store failures, each also a miss/no-store).
EVENTS = ("hits", "misses", "stores", "skipped", "bypassed", "errors")

_counts: Counter[str] = Counter()
_lock = threading.Lock()
_failing = False


def count(event: str, n: int = 1) -> None:
    with _lock:
        _counts[event] += n


def cache_counters() -> dict[str, int]:
    """A snapshot of this process's counters, for the metrics endpoint."""
    with _lock:
        return {event: _counts[event] for event in EVENTS}


def reset_counters() -> None:
    global _failing
    with _lock:
        _counts.clear()
        _failing = False


def store_failed(operation: str, exc: BaseException) -> None:
    """Count a store failure; log it only when the store was healthy until now."""
    global _failing
    count("errors")
    with _lock:
        first, _failing = not _failing, True
    if first:
        log.warning(
            "response cache unavailable (%s failed: %s: %s); turns continue "
            "uncached until it recovers",
            operation,
            type(exc).__name__,
            exc,
        )


def store_worked() -> None:
    global _failing
    if not _failing:
        return
    with _lock:
        was, _failing = _failing, False
    if was:
        log.info("response cache recovered")


async def guarded[T](operation: str, call: Awaitable[T], default: T) -> T:
    """Await a store call within CHAT_CACHE_TIMEOUT (0: no limit); any failure
    gives `default`."""
    timeout = float(settings.CHAT_CACHE_TIMEOUT) or None
    try:
        async with asyncio.timeout(timeout):
            result = await call
    except Exception as exc:  # a cancellation is a BaseException and goes through
        store_failed(operation, exc)
        return default
    store_worked()
    return result


async def guarded_write(operation: str, call: Awaitable[object]) -> bool:
    """Like `guarded` for a write: True when it completed."""

    async def run() -> bool:
        await call
        return True

    return await guarded(operation, run(), False)
