"""Upstream protection: towards each model endpoint, across all processes, a limit
on requests in flight, requests per minute and tokens per minute. Turns that find
it saturated wait in a bounded FIFO queue and hear their position as it changes;
past the maximum wait they get `busy`. A provider's 429 pauses the endpoint for
every turn, not only the one that saw it."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

from chat.errors import Busy
from chat.limits.backends import get_backend
from chat.limits.backends.base import (
    FULL,
    OK,
    PAUSED,
    BackendUnavailable,
    LimitsBackend,
    UpstreamAsk,
    UpstreamState,
    log_member,
)
from chat.limits.clock import Clock, get_clock
from chat.limits.keys import EndpointKeys, endpoint_keys
from chat.limits.tasks import finish_anyway
from chat.stores import StoreRegistry

log = logging.getLogger("chat.limits")

OnQueue = Callable[[int], Awaitable[None]]

# A waiter looks at the queue at least this often (so the positions it reports
# stay fresh), and keeps its place for a while after its last look.
MAX_NAP = 1.0
MIN_KEEP = 5.0

QUEUE_FULL = "The assistant is very busy right now. Please try again in a moment."
WAITED_TOO_LONG = (
    "The assistant is very busy right now and your message waited too long. "
    "Please try again in a moment."
)
PAUSED_TOO_LONG = (
    "The language model asked us to slow down. Please try again in {} seconds."
)
AT_CAPACITY = (
    "The assistant has reached its per-minute limit with the language model. "
    "Please try again in {} seconds."
)


@dataclass(frozen=True)
class UpstreamSlot:
    """A granted place towards the provider, held until the turn settles."""

    keys: EndpointKeys
    ticket: str
    log_member: str
    waited: float  # seconds spent in the queue
    queued: bool


class _Wakeups:
    """Wakes this process's waiters for an endpoint as soon as a slot frees here;
    waiters in other processes notice on their next look."""

    def __init__(self) -> None:
        # Events belong to the loop whose waiters wait on them.
        self._events: StoreRegistry[dict[str, asyncio.Event]] = StoreRegistry(
            per_loop=True
        )

    def _per_loop(self) -> dict[str, asyncio.Event]:
        return self._events.get("events", dict)

    def notify(self, key: str) -> None:
        event = self._per_loop().pop(key, None)
        if event is not None:
            event.set()

    async def nap(self, key: str, seconds: float) -> None:
        """Sleep up to `seconds`, less if a slot frees in this process."""
        event = self._per_loop().setdefault(key, asyncio.Event())
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass


_wakeups = _Wakeups()


def _limit(name: str) -> int | None:
    value = getattr(settings, name)
    return None if value in (None, "") else int(value)


async def acquire(
    *,
    backend: LimitsBackend,
    endpoint: str,
    tokens: int,
    clock: Clock,
    on_queue: OnQueue | None = None,
) -> UpstreamSlot:
    """Wait for a slot towards `endpoint`, first come first served; on_queue hears
    each new position (1 is next) and 0 when a queued turn's slot comes. Raises
    Busy when the queue is full, or the wait (or a provider's pause) would pass
    CHAT_UPSTREAM_MAX_WAIT_SECONDS."""
    keys = endpoint_keys(endpoint)
    ticket = uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + float(settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS)
    poll = float(settings.CHAT_UPSTREAM_POLL_SECONDS)
    lease = float(settings.CHAT_LIMITS_LEASE_SECONDS)
    keep = max(MIN_KEEP, 10 * poll)
    told: int | None = None
    placed = True  # whether the backend may hold this ticket (queued or granted)
    try:
        while True:
            now = clock.now()
            decision = await backend.upstream_acquire(
                UpstreamAsk(
                    keys=keys,
                    ticket=ticket,
                    now=now,
                    queue_max=int(settings.CHAT_UPSTREAM_QUEUE_MAX),
                    waiter_until=now + keep,
                    lease_until=now + lease,
                    max_inflight=_limit("CHAT_UPSTREAM_MAX_CONCURRENT"),
                    rpm=_limit("CHAT_UPSTREAM_RPM"),
                    tpm=_limit("CHAT_UPSTREAM_TPM"),
                    tokens=tokens,
                )
            )
            if decision.outcome == OK:
                slot = UpstreamSlot(
                    keys,
                    ticket,
                    log_member(ticket, tokens),
                    waited=loop.time() - started,
                    queued=told is not None,
                )
                if told is not None:
                    await _tell(on_queue, 0)
                return slot
            if decision.outcome == FULL:
                placed = False
                raise Busy(
                    QUEUE_FULL,
                    retry_after=decision.retry_after or None,
                    detail="queue_full",
                )
            position = decision.position + 1
            if position != told:
                told = position
                await _tell(on_queue, position)
            left = deadline - loop.time()
            if 0 < left < decision.retry_after:
                # No use waiting for a pause or a per-minute window that outlasts
                # the wait allowed: say when to come back instead.
                paused = decision.outcome == PAUSED
                raise Busy(
                    (PAUSED_TOO_LONG if paused else AT_CAPACITY).format(
                        math.ceil(decision.retry_after)
                    ),
                    retry_after=decision.retry_after,
                    detail="paused" if paused else "per_minute",
                )
            if left <= 0:
                raise Busy(WAITED_TOO_LONG, detail="max_wait")
            nap = min(left, decision.retry_after or poll, MAX_NAP)
            await _wakeups.nap(keys.queue, nap)
    except BaseException:
        if placed:
            await finish_anyway(_release(backend, keys, ticket, None))
        raise


async def release(
    backend: LimitsBackend, slot: UpstreamSlot, *, reached_provider: bool = True
) -> None:
    """Give the slot back; a request that never reached the provider (a cache hit)
    also leaves the per-minute counts."""
    forget = None if reached_provider else slot.log_member
    await _release(backend, slot.keys, slot.ticket, forget)


async def _release(
    backend: LimitsBackend, keys: EndpointKeys, ticket: str, forget: str | None
) -> None:
    try:
        await backend.upstream_release(keys=keys, ticket=ticket, forget=forget)
    except BackendUnavailable as exc:
        log.warning("upstream slot not released (its lease will lapse): %s", exc)
    _wakeups.notify(keys.queue)


async def renew(backend: LimitsBackend, slot: UpstreamSlot, *, until: float) -> bool:
    return await backend.upstream_renew(keys=slot.keys, ticket=slot.ticket, until=until)


async def _tell(on_queue: OnQueue | None, position: int) -> None:
    """Position updates are best effort: a closed page must not stop the turn."""
    if on_queue is None:
        return
    try:
        await on_queue(position)
    except Exception:
        log.exception("queue position callback failed")


async def note_provider_429(
    endpoint: str, retry_after: float | None = None, *, clock: Clock | None = None
) -> float | None:
    """Pause `endpoint` for every turn in every process: for Retry-After seconds
    (capped), or a short default without one. Returns the pause in force."""
    if not settings.CHAT_LIMITS_ENABLED:
        return None
    if retry_after is None:
        retry_after = float(settings.CHAT_UPSTREAM_DEFAULT_PAUSE_SECONDS)
    seconds = min(
        max(0.0, retry_after), float(settings.CHAT_UPSTREAM_MAX_PAUSE_SECONDS)
    )
    if seconds <= 0:
        return None
    now = (clock or get_clock()).now()
    try:
        until = await get_backend().upstream_pause(
            keys=endpoint_keys(endpoint), until=now + seconds, now=now
        )
    except BackendUnavailable as exc:
        log.warning("could not pause %s after a 429: %s", endpoint, exc)
        return None
    log.warning("provider 429: %s paused for %.1fs", endpoint, until - now)
    return until - now


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds a provider asked us to wait: retry-after-ms (OpenAI), else
    Retry-After in seconds or as an HTTP date."""
    lower = {key.lower(): value for key, value in headers.items()}
    try:
        return max(0.0, float(lower["retry-after-ms"]) / 1000)
    except (KeyError, ValueError):
        pass
    value = lower.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


async def upstream_state(endpoint: str, *, clock: Clock | None = None) -> UpstreamState:
    """Queue length, requests in flight and pause of an endpoint (health, tests)."""
    now = (clock or get_clock()).now()
    return await get_backend().upstream_state(keys=endpoint_keys(endpoint), now=now)
