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


async def stream_reply(
    messages: list[BaseMessage], config: RunnableConfig, stats: StreamStats
) -> AsyncIterator[str]:
    """The reply's text from the first candidate that starts one; `stats.model` and
    `stats.endpoint` name the candidate that answered."""
    breaker = get_breaker()
    last_error: ChatError = ProviderUnavailable(detail="no model candidates")
    for candidate in chat_models.candidates():
        for attempt in range(settings.LLM_MAX_RETRIES + 1):
            if not await breaker.allow(candidate.endpoint):
                last_error = ProviderUnavailable(detail=f"circuit open: {candidate}")
                break  # straight to the next fallback
            stats.model, stats.endpoint = candidate.name, candidate.endpoint
            started = False
            try:
                pieces = stream_text(candidate.model, messages, config, stats)
                async for piece in _deadlines(pieces):
                    started = True
                    yield piece
            except ChatError as exc:
                if exc.code in ("provider_unavailable", "timeout"):
                    await breaker.failure(candidate.endpoint)
                if getattr(exc, "status", None) == 429:
                    # Every turn in every process waits, queued, for the endpoint.
                    await note_provider_429(candidate.endpoint, exc.retry_after)
                    if exc.retry_after:
                        await breaker.pause(candidate.endpoint, exc.retry_after)
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


async def _deadlines(pieces: AsyncIterator[str]) -> AsyncIterator[str]:
    """Pass pieces through, failing with `timeout` when the first is later than
    LLM_FIRST_TOKEN_TIMEOUT or a later one than LLM_CHUNK_GAP_TIMEOUT after the
    previous; closing the stream closes the provider request."""
    limit = settings.LLM_FIRST_TOKEN_TIMEOUT or None
    iterator = aiter(pieces)
    try:
        while True:
            try:
                async with asyncio.timeout(limit):
                    piece = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ProviderTimeout(detail=f"no chunk within {limit}s") from None
            limit = settings.LLM_CHUNK_GAP_TIMEOUT or None
            yield piece
    finally:
        await iterator.aclose()
