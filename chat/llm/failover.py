"""Getting a reply started despite a failing provider: the one retry layer (backoff
with jitter, Retry-After honoured, fail fast when it asks for too long), fallbacks in
order, a circuit breaker per endpoint, and deadlines for the first token and for the
gap between chunks. Nothing is retried once text has been sent: that would
duplicate it; the turn stores such a reply as interrupted."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator

from django.conf import settings
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from chat.errors import ChatError, ProviderTimeout, ProviderUnavailable
from chat.limits import note_provider_429
from chat.llm import chat_models
from chat.llm.breaker import get_breaker
from chat.llm.streaming import StreamStats, stream_text

log = logging.getLogger("chat.failover")

# Seconds by which the breaker's pause after a 429 ends before the limits' queue's.
PAUSE_MARGIN = 0.25


async def stream_reply(
    messages: list[BaseMessage],
    config: RunnableConfig,
    stats: StreamStats,
    candidates: list[chat_models.Candidate] | None = None,
) -> AsyncIterator[str]:
    """The reply's text from the first candidate that starts one (the turn's, else
    the environment's); `stats.model`, `stats.endpoint` and `stats.catalogue_key`
    name the candidate that answered."""
    breaker = get_breaker()
    last_error: ChatError = ProviderUnavailable(detail="no model candidates")
    for candidate in candidates or chat_models.candidates():
        for attempt in range(settings.LLM_MAX_RETRIES + 1):
            if not await breaker.allow(candidate.endpoint):
                last_error = ProviderUnavailable(detail=f"circuit open: {candidate}")
                break  # straight to the next fallback
            stats.model, stats.endpoint = candidate.name, candidate.endpoint
            stats.catalogue_key = candidate.catalogue_key
            stats.run_id = ""
            started = False
            # Each attempt is its own call, named in callbacks and traces.
            metadata = {
                **(config.get("metadata") or {}),
                "endpoint": candidate.endpoint,
                "attempt": attempt,
            }
            try:
                pieces = stream_text(
                    candidate.model, messages, {**config, "metadata": metadata}, stats
                )
                async for piece in _deadlines(pieces):
                    started = True
                    yield piece
            except ChatError as exc:
                if stats.run_id:
                    stats.call_errors[stats.run_id] = exc.code
                if exc.code in ("provider_unavailable", "timeout"):
                    await breaker.failure(candidate.endpoint)
                if getattr(exc, "status", None) == 429:
                    # Every turn in every process waits, queued, for the endpoint.
                    paused = await note_provider_429(
                        candidate.endpoint, exc.retry_after
                    )
                    # The breaker's pause ends just before the queue's: ending a
                    # moment after it, it failed turns the queue had let through.
                    seconds = (
                        exc.retry_after if paused is None else paused - PAUSE_MARGIN
                    )
                    if seconds and seconds > 0:
                        await breaker.pause(candidate.endpoint, seconds)
                if started or not exc.retryable:
                    raise
                last_error = exc
                delay = _backoff(attempt, exc.retry_after)
                if delay is None or attempt == settings.LLM_MAX_RETRIES:
                    break  # too long to wait here: try the next fallback
                log.info("retrying %s in %.2fs after %s", candidate, delay, exc.code)
                await asyncio.sleep(delay)
                continue
            await breaker.success(candidate.endpoint)
            return
    raise last_error


def _backoff(attempt: int, retry_after: float | None) -> float | None:
    """Seconds before the next try, or None when Retry-After asks for too long."""
    if retry_after is not None:
        if retry_after > settings.LLM_MAX_RETRY_AFTER:
            return None
        return retry_after
    base = settings.LLM_RETRY_BASE_DELAY * (2**attempt)
    return min(base, settings.LLM_RETRY_MAX_DELAY) * random.uniform(0.75, 1.0)


class _Watchdog:
    """One timer per stream instead of one `asyncio.timeout` per chunk (which costs a
    timer, a heap push and a cancelled handle each time): arming only moves the
    deadline; the timer, when it fires early, sleeps again until the current one."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._deadline: float | None = None  # None: not waiting for a chunk
        self._handle: asyncio.TimerHandle | None = None
        self._fired = False
        self._cancelling = 0

    def arm(self, limit: float | None) -> None:
        """Start waiting for a chunk, for at most `limit` seconds (None: forever)."""
        if limit is None:
            self._deadline = None
            return
        self._deadline = deadline = self._loop.time() + limit
        handle = self._handle
        if handle is not None and handle.when() > deadline:
            handle.cancel()  # a shorter limit than the one it sleeps for
            handle = None
        if handle is None:
            self._handle = self._loop.call_at(deadline, self._check)

    def disarm(self) -> bool:
        """Stop waiting; True when the timer's cancellation ended the wait (and no
        one else cancelled the task), as `asyncio.timeout` decides it."""
        self._deadline = None
        if not self._fired:
            return False
        self._fired = False
        return self._task.uncancel() <= self._cancelling

    def close(self) -> None:
        self.disarm()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return  # not waiting: the next arm starts the timer again
        if self._loop.time() < deadline:
            self._handle = self._loop.call_at(deadline, self._check)
            return
        self._fired = True
        self._cancelling = self._task.cancelling()
        self._task.cancel()


async def _deadlines(pieces: AsyncIterator[str]) -> AsyncIterator[str]:
    """Pass pieces through, failing with `timeout` when the first is later than
    LLM_FIRST_TOKEN_TIMEOUT or a later one than LLM_CHUNK_GAP_TIMEOUT after the
    previous; closing the stream closes the provider request."""
    limit = settings.LLM_FIRST_TOKEN_TIMEOUT or None
    gap = settings.LLM_CHUNK_GAP_TIMEOUT or None
    iterator = aiter(pieces)
    watchdog = _Watchdog()
    try:
        while True:
            watchdog.arm(limit)
            try:
                piece = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if watchdog.disarm():
                    raise ProviderTimeout(detail=f"no chunk within {limit}s") from None
                raise
            watchdog.disarm()
            limit = gap
            yield piece
    finally:
        watchdog.close()
        await iterator.aclose()
