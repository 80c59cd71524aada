"""Getting a reply started despite a failing provider: the one retry layer (backoff
with jitter, Retry-After honoured, fail fast when it asks for too long), fallbacks in
order, a circuit breaker per endpoint, and deadlines for the first token and for the
gap between chunks. Nothing is retried once text has been sent: that would
duplicate it; the turn stores such a reply as interrupted.

The breaker hears of success at the first chunk, not at the end of the reply: a
half-open probe that is streaming proves the endpoint healthy, and holding the
circuit shut for the whole of its reply failed every other user meanwhile. While
the provider keeps the user waiting (no chunk yet, a pause, a retry, a fallback),
`on_status` is told what is happening at least every CHAT_STATUS_INTERVAL_SECONDS."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable

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


StatusCallback = Callable[[str, int], None]


async def stream_reply(
    messages: list[BaseMessage],
    config: RunnableConfig,
    stats: StreamStats,
    on_status: StatusCallback | None = None,
    candidates: list[chat_models.Candidate] | None = None,
) -> AsyncIterator[str]:
    """The reply's text from the first candidate that starts one (the turn's, else
    the environment's); `stats.model`, `stats.endpoint` and `stats.catalogue_key`
    name the candidate that answered. `on_status(text, retry)` hears what keeps the
    user waiting."""
    progress = _Progress(on_status)
    try:
        async for piece in _stream_reply(
            messages, config, stats, progress, candidates or chat_models.candidates()
        ):
            yield piece
    finally:
        progress.close()


async def _stream_reply(
    messages: list[BaseMessage],
    config: RunnableConfig,
    stats: StreamStats,
    progress: _Progress,
    candidates: list[chat_models.Candidate],
) -> AsyncIterator[str]:
    breaker = get_breaker()
    last_error: ChatError = ProviderUnavailable(detail="no model candidates")
    for number, candidate in enumerate(candidates):
        for attempt in range(settings.LLM_MAX_RETRIES + 1):
            if not await breaker.allow(candidate.endpoint):
                last_error = ProviderUnavailable(detail=f"circuit open: {candidate}")
                break  # straight to the next fallback
            if number and not attempt:
                progress.retry("Trying another model…")
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
                    progress.chunk()
                    if not started:
                        started = True
                        # The endpoint answers: close the circuit for everyone now.
                        await breaker.success(candidate.endpoint)
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
                progress.retry(_retry_words(exc, delay))
                await asyncio.sleep(delay)
                continue
            if not started:  # an empty reply is an answer too
                await breaker.success(candidate.endpoint)
            return
    raise last_error


def _retry_words(error: ChatError, delay: float) -> str:
    what = "did not answer in time" if error.code == "timeout" else "is unavailable"
    when = f"in {delay:.0f} s" if delay >= 1 else "now"
    return f"The model {what}; trying again {when}…"


class _Progress:
    """Says what keeps the user waiting: at each retry or fallback, and whenever
    CHAT_STATUS_INTERVAL_SECONDS pass without a chunk. A chunk costs only a clock
    read; one timer task per reply does the rest."""

    def __init__(self, on_status: StatusCallback | None) -> None:
        self._on_status = on_status
        self._interval = settings.CHAT_STATUS_INTERVAL_SECONDS
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._retries = 0
        self._text = False
        self._task = (
            asyncio.create_task(self._tick())
            if on_status is not None and self._interval > 0
            else None
        )

    def chunk(self) -> None:
        self._last = self._loop.time()
        self._text = True

    def retry(self, words: str) -> None:
        self._retries += 1
        self._say(words)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _say(self, words: str) -> None:
        self._last = self._loop.time()
        if self._on_status is None:
            return
        try:
            self._on_status(words, self._retries)
        except Exception:  # the reply ended meanwhile: nothing left to tell
            log.debug("status not delivered", exc_info=True)
            self._on_status = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(
                max(0.05, self._last + self._interval - self._loop.time())
            )
            if self._loop.time() - self._last >= self._interval:
                self._say(
                    "The model has paused; still waiting…"
                    if self._text
                    else "Waiting for the model to answer…"
                )


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
