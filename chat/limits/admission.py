"""Admission: the one entry a turn calls before it may call the model.

`admit` checks the user's rate limit, concurrency limit and budgets in one atomic
step (holding the estimated usage), then waits its turn for the provider.
`Admission.settle` gives everything back and charges the real usage, exactly once,
however the turn ends. Leases (renewed while the turn lives) guarantee that a slot
is never lost for good when a process dies: its hold is then charged in full, since
the provider may have billed up to it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
import weakref
from dataclasses import replace
from decimal import Decimal

from django.conf import settings

from chat.errors import Busy, ChatError, RateLimited
from chat.limits import budgets, site, upstream
from chat.limits.backends import get_backend, memory_backend
from chat.limits.backends.base import (
    BUDGET,
    BUSY,
    HELD,
    OK,
    RATE,
    SEED,
    BackendUnavailable,
    LimitsBackend,
    UserAsk,
    UserDecision,
)
from chat.limits.clock import Clock, get_clock
from chat.limits.exceptions import LimitsUnavailable
from chat.limits.keys import user_keys
from chat.limits.policies import Policy, policy_for
from chat.limits.tasks import finish_anyway, keep
from chat.limits.upstream import OnQueue, UpstreamSlot

log = logging.getLogger("chat.limits")

# Suggested wait when the limits store is unreachable.
UNAVAILABLE_RETRY_SECONDS = 5.0

# Background calls (titles) a user may have in flight at once.
BACKGROUND_SLOTS = 4

BUDGET_HELD = (
    "Your remaining budget is reserved for a reply in progress. "
    "Try again when it finishes."
)


class Admission:
    """A turn's permission to call the model: its slot, its budget hold and, once
    granted, its upstream slot."""

    def __init__(
        self,
        *,
        id: str,
        user_id: object,
        model: str,
        endpoint: str,
        tokens: int,
        backend: LimitsBackend | None,
        clock: Clock,
        slots_key: str = "",
        counters: tuple[str, ...] = (),
    ) -> None:
        self.id = id
        self.user_id = user_id
        self.model = model
        self.endpoint = endpoint
        self.tokens = tokens
        self.backend = backend
        self.clock = clock
        self.slots_key = slots_key
        self.counters = counters
        self.upstream: UpstreamSlot | None = None
        self.settled = False
        self._heartbeat: asyncio.Task | None = None
        # Its hold in the site-wide caps (chat/limits/site.py), if any are set.
        self.site: site.SiteHold | None = None

    def __repr__(self) -> str:
        return f"<Admission {self.id} user={self.user_id} settled={self.settled}>"

    async def wait_upstream(self, on_queue: OnQueue | None = None) -> None:
        """Wait for an upstream slot (admit does this unless told not to, e.g. to
        look up the response cache first)."""
        if self.backend is None or self.upstream is not None or self.settled:
            return
        try:
            self.upstream = await upstream.acquire(
                backend=self.backend,
                endpoint=self.endpoint,
                tokens=self.tokens,
                clock=self.clock,
                on_queue=on_queue,
            )
        except BackendUnavailable as exc:
            log.warning("limits backend unavailable while queued: %s", exc)
            raise _unavailable(exc) from None

    async def settle(
        self,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: Decimal | int = Decimal(0),
        cache_hit: bool = False,
    ) -> None:
        """Free the slots and charge the real usage (a partial reply's too; a cache
        hit costs nothing). Only the first call counts; it completes even if the
        caller is cancelled meanwhile, and never raises for an unreachable store
        (the leases then lapse and the hold is charged in full)."""
        if self.settled:
            return
        self.settled = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self.backend is None:
            return
        if cache_hit:
            tokens, units = 0, 0
        else:
            tokens = max(0, input_tokens) + max(0, output_tokens)
            units = budgets.to_units(cost)
        await finish_anyway(self._settle(tokens, units, reached_provider=not cache_hit))

    async def _settle(self, tokens: int, units: int, *, reached_provider: bool) -> None:
        if self.upstream is not None:
            await upstream.release(
                self.backend, self.upstream, reached_provider=reached_provider
            )
        try:
            await self.backend.user_settle(
                slots_key=self.slots_key,
                counters=list(self.counters),
                admission_id=self.id,
                tokens=tokens,
                cost=units,
            )
        except BackendUnavailable as exc:
            log.warning(
                "admission %s not settled (its lease will lapse and its hold be "
                "charged): %s",
                self.id,
                exc,
            )
        await site.site_settle(self.backend, self.site, tokens=tokens, cost=units)

    async def renew(self) -> None:
        """Extend the leases (the heartbeat does this while the turn lives)."""
        if self.backend is None or self.settled:
            return
        lease = float(settings.CHAT_LIMITS_LEASE_SECONDS)
        until = self.clock.now() + lease
        alive = await self.backend.user_renew(
            slots_key=self.slots_key,
            counters=list(self.counters),
            admission_id=self.id,
            until=until,
            ttl=int(lease) + 2,
        )
        if self.upstream is not None:
            alive = (
                await upstream.renew(self.backend, self.upstream, until=until) and alive
            )
        alive = (
            await site.site_renew(
                self.backend, self.site, until=until, ttl=int(lease) + 2
            )
            and alive
        )
        if not alive:
            log.warning("admission %s outlived its lease", self.id)

    def _start_heartbeat(self) -> None:
        every = float(settings.CHAT_LIMITS_LEASE_SECONDS) / 3
        self._heartbeat = keep(
            asyncio.create_task(
                _heartbeat(weakref.ref(self), every), name=f"limits-lease-{self.id}"
            )
        )


async def _heartbeat(ref: weakref.ref[Admission], every: float) -> None:
    """Renew an admission's leases until it is settled. It holds the admission only
    weakly: one dropped without settling lets its leases lapse."""
    while True:
        await asyncio.sleep(every)
        admission = ref()
        if admission is None:
            log.warning("an admission was dropped without being settled")
            return
        if admission.settled:
            return
        try:
            await admission.renew()
        except BackendUnavailable as exc:
            log.warning("could not renew admission %s: %s", admission.id, exc)
        del admission


async def admit(
    *,
    user,
    endpoint: str,
    estimated_input_tokens: int,
    reply_cap_tokens: int,
    estimated_cost: Decimal | int = Decimal(0),
    model: str = "",
    on_queue: OnQueue | None = None,
    wait_upstream: bool = True,
    policy: Policy | None = None,
    clock: Clock | None = None,
    background: bool = False,
) -> Admission:
    """Admit one turn of `user` towards `endpoint`, or refuse it with RateLimited,
    Busy (a reply in flight, a saturated provider, limits unavailable) or
    BudgetExhausted, each with retry_after. Holds input estimate plus reply cap (and
    the estimated cost) against the budgets until settled. A blocked account is
    refused where its message would be stored (chat.conversations).

    A `background` call the user did not ask for (a title) is budgeted the same way
    but counts towards neither the rate limit nor the reply slots: it must never
    make the user's next message busy."""
    clock = clock or get_clock()
    user_id = getattr(user, "pk", user)
    tokens = max(0, estimated_input_tokens) + max(0, reply_cap_tokens)
    if not settings.CHAT_LIMITS_ENABLED:
        return Admission(
            id=uuid.uuid4().hex,
            user_id=user_id,
            model=model,
            endpoint=endpoint,
            tokens=tokens,
            backend=None,
            clock=clock,
        )
    policy = policy or await policy_for(user)
    if background:
        policy = replace(policy, rate_rules=(), max_concurrent=BACKGROUND_SLOTS)
    backend = get_backend()
    request = dict(
        user_id=user_id,
        model=model,
        endpoint=endpoint,
        tokens=tokens,
        cost=budgets.to_units(estimated_cost),
        policy=policy,
        clock=clock,
        background=background,
    )
    try:
        admission = await _admit_user(backend, **request)
    except BackendUnavailable as exc:
        if (
            settings.CHAT_LIMITS_ON_REDIS_ERROR != "local"
            or backend is memory_backend()
        ):
            log.warning("limits backend unavailable, refusing: %s", exc)
            raise _unavailable(exc) from None
        log.warning("limits backend unavailable, using this process's limits: %s", exc)
        admission = await _admit_user(memory_backend(), **request)
    if wait_upstream:
        try:
            await admission.wait_upstream(on_queue)
        except BaseException:
            await admission.settle()
            raise
    return admission


async def _admit_user(
    backend: LimitsBackend,
    *,
    user_id: object,
    model: str,
    endpoint: str,
    tokens: int,
    cost: int,
    policy: Policy,
    clock: Clock,
    background: bool = False,
) -> Admission:
    keys = user_keys(user_id)
    now = clock.now()
    periods = budgets.periods_for(policy, keys, now)
    ask = UserAsk(
        rate_key=keys.rate,
        slots_key=keys.background if background else keys.slots,
        admission_id=uuid.uuid4().hex,
        now=now,
        lease_until=now + float(settings.CHAT_LIMITS_LEASE_SECONDS),
        rules=policy.rate_rules,
        max_concurrent=policy.max_concurrent,
        counters=tuple(period.counter for period in periods),
        tokens=tokens,
        cost=cost,
    )
    admission = Admission(
        id=ask.admission_id,
        user_id=user_id,
        model=model,
        endpoint=endpoint,
        tokens=tokens,
        backend=backend,
        clock=clock,
        slots_key=ask.slots_key,
        counters=tuple(counter.key for counter in ask.counters),
    )
    admission.site = await site.site_reserve(backend, ask)
    try:
        for _ in range(3):
            decision = await backend.user_admit(ask)
            if decision.outcome != SEED:
                break
            for index, _kind in decision.counters:
                await budgets.seed(backend, user_id=user_id, period=periods[index])
        else:
            raise BackendUnavailable(
                "budget counters vanish as soon as they are seeded"
            )
    except asyncio.CancelledError:
        # The script may have run: give back what it took, charging nothing.
        await admission.settle()
        raise
    except BaseException:
        await site.site_settle(backend, admission.site, tokens=0, cost=0)
        raise
    if decision.outcome != OK:
        await site.site_settle(backend, admission.site, tokens=0, cost=0)
        admission.settled = True
        raise _refusal(decision, periods, now)
    admission._start_heartbeat()
    return admission


def _refusal(
    decision: UserDecision, periods: list[budgets.Period], now: float
) -> ChatError:
    if decision.outcome == RATE:
        wait = decision.retry_after
        return RateLimited(
            f"You are sending messages too quickly. Try again in {_seconds(wait)}.",
            retry_after=wait,
        )
    if decision.outcome == BUSY:
        return Busy(detail="in_flight")
    if decision.outcome == HELD:
        return Busy(BUDGET_HELD, detail="budget_held")
    if decision.outcome == BUDGET:
        return budgets.exhausted(periods, decision.counters, now)
    raise AssertionError(f"unexpected admission outcome {decision.outcome!r}")


def _unavailable(exc: BackendUnavailable) -> LimitsUnavailable:
    return LimitsUnavailable(retry_after=UNAVAILABLE_RETRY_SECONDS, detail=str(exc))


def _seconds(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minutes"
