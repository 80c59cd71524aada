"""The site-wide spend guard: daily and monthly caps on what all users spend together
(CHAT_SITE_BUDGET_*), so no number of accounts can run up the operator's bill.

Every admitted turn also holds its estimate (input plus reply cap, and its cost) in
the site's period counters and settles its real usage there, exactly like a user's
budget (chat/limits/budgets.py) and with the same backend operations: one atomic
script on Redis, one locked step in process. The site's keys share a hash tag of
their own ({site}), so each script still touches one Redis Cluster slot; the
price is a second round trip per admission, taken before the user's so a refusal
by the user's limits has only a hold to give back.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from chat.errors import BudgetExhausted, Busy
from chat.limits import budgets
from chat.limits.backends.base import (
    BUDGET,
    HELD,
    OK,
    SEED,
    BackendUnavailable,
    BudgetCounter,
    LimitsBackend,
    UserAsk,
)
from chat.limits.keys import UserKeys
from chat.limits.periods import ADJECTIVES, PERIODS, window
from chat.limits.tasks import finish_anyway

log = logging.getLogger("chat.limits")

# No concurrency limit of its own: the site's slots only carry the leases.
_UNLIMITED = 2**31 - 1

SITE_HELD = (
    "The service's remaining budget for this period is reserved for replies in "
    "progress. Try again in a minute."
)


@dataclass(frozen=True)
class SiteHold:
    """What one admission holds in the site's counters."""

    admission_id: str
    slots_key: str
    counters: tuple[str, ...]


@dataclass(frozen=True)
class SiteStatus:
    """The site's spending in one period against its caps (used includes holds)."""

    period: str
    tokens_limit: int | None
    tokens_used: int
    cost_limit: Decimal | None
    cost_used: Decimal

    @property
    def ratio(self) -> float:
        """The larger share of a cap spent or held, 0..1 (or more)."""
        shares = []
        if self.tokens_limit:
            shares.append(self.tokens_used / self.tokens_limit)
        if self.cost_limit:
            shares.append(float(self.cost_used / self.cost_limit))
        return max(shares, default=0.0)


def site_keys() -> UserKeys:
    return UserKeys(f"{settings.CHAT_LIMITS_KEY_PREFIX}:{{site}}")


def _caps(period: str) -> tuple[int | None, Decimal | None]:
    name = period.upper()
    tokens = getattr(settings, f"CHAT_SITE_BUDGET_TOKENS_PER_{name}")
    cost = getattr(settings, f"CHAT_SITE_BUDGET_COST_PER_{name}")
    return (
        None if tokens in (None, "") else int(tokens),
        None if cost in (None, "") else Decimal(str(cost)),
    )


def site_periods(now: float) -> list[budgets.Period]:
    """The current periods that have a site cap."""
    keys = site_keys()
    periods = []
    for name in PERIODS:
        tokens, cost = _caps(name)
        if tokens is None and cost is None:
            continue
        current = window(name, now)
        counter = BudgetCounter(
            key=keys.budget(current),
            tokens_limit=tokens,
            cost_limit=None if cost is None else budgets.to_units(cost),
            ttl=math.ceil(current.seconds_left(now)) + budgets.GRACE_SECONDS,
        )
        periods.append(budgets.Period(current, tokens, cost, counter))
    return periods


async def site_reserve(backend: LimitsBackend, ask: UserAsk) -> SiteHold | None:
    """Hold the user's ask in the site's counters too, or refuse it; None when no
    site cap is set. Raises BudgetExhausted (the site is at its cap) or Busy (what
    is left is held by replies in flight)."""
    periods = site_periods(ask.now)
    if not periods:
        return None
    keys = site_keys()
    site_ask = UserAsk(
        rate_key=keys.rate,
        slots_key=keys.slots,
        admission_id=ask.admission_id,
        now=ask.now,
        lease_until=ask.lease_until,
        rules=(),
        max_concurrent=_UNLIMITED,
        counters=tuple(period.counter for period in periods),
        tokens=ask.tokens,
        cost=ask.cost,
    )
    hold = SiteHold(
        ask.admission_id, keys.slots, tuple(period.counter.key for period in periods)
    )
    for _ in range(3):
        try:
            decision = await backend.user_admit(site_ask)
        except asyncio.CancelledError:
            # The script may have run: give back what it took, charging nothing.
            await finish_anyway(site_settle(backend, hold, tokens=0, cost=0))
            raise
        if decision.outcome != SEED:
            break
        for index, _kind in decision.counters:
            # user_id None: the ledger's totals of every user.
            await budgets.seed(backend, user_id=None, period=periods[index])
    else:
        raise BackendUnavailable("site counters vanish as soon as they are seeded")
    if decision.outcome == OK:
        return hold
    if decision.outcome == BUDGET:
        raise site_exhausted(periods, decision.counters, ask.now)
    if decision.outcome == HELD:
        raise Busy(SITE_HELD, retry_after=60.0, detail="site_budget_held")
    raise AssertionError(f"unexpected site admission outcome {decision.outcome!r}")


def site_exhausted(
    periods: list[budgets.Period], which: tuple, now: float
) -> BudgetExhausted:
    """The refusal for a spent site cap: it says the service, not the user, is at
    its limit, and when the cap that resets last resets."""
    index, _kinds = max(which, key=lambda item: periods[item[0]].window.end)
    period = periods[index]
    adjective = ADJECTIVES[period.window.period]
    return BudgetExhausted(
        f"The service has reached its {adjective} usage limit for all users "
        "together, so no reply was started. This is not a limit on your account; "
        f"it {period.window.reset_words()}.",
        retry_after=period.window.seconds_left(now),
        detail="site_budget",
    )


async def site_settle(
    backend: LimitsBackend, hold: SiteHold | None, *, tokens: int, cost: int
) -> None:
    """Turn a hold into real usage (zero gives it back unused)."""
    if hold is None:
        return
    try:
        await backend.user_settle(
            slots_key=hold.slots_key,
            counters=list(hold.counters),
            admission_id=hold.admission_id,
            tokens=tokens,
            cost=cost,
        )
    except BackendUnavailable as exc:
        log.warning(
            "site hold %s not settled (its lease will lapse and it be charged): %s",
            hold.admission_id,
            exc,
        )


async def site_renew(
    backend: LimitsBackend, hold: SiteHold | None, *, until: float, ttl: int
) -> bool:
    if hold is None:
        return True
    return await backend.user_renew(
        slots_key=hold.slots_key,
        counters=list(hold.counters),
        admission_id=hold.admission_id,
        until=until,
        ttl=ttl,
    )


async def site_status(*, now: float | None = None) -> list[SiteStatus]:
    """Each capped period's spending (holds included), for the metric and the admin
    banner; empty when no cap is set or the limits store cannot be read."""
    from chat.limits.backends import get_backend
    from chat.limits.clock import get_clock

    now = get_clock().now() if now is None else now
    periods = site_periods(now)
    if not periods:
        return []
    backend = get_backend()
    try:
        states = await backend.counter_read(
            keys=[p.counter.key for p in periods], now=now
        )
        for i, (period, state) in enumerate(zip(periods, states, strict=True)):
            if not state.exists:
                await budgets.seed(backend, user_id=None, period=period)
                (states[i],) = await backend.counter_read(
                    keys=[period.counter.key], now=now
                )
    except BackendUnavailable as exc:
        log.warning("site budget status unavailable: %s", exc)
        return []
    return [
        SiteStatus(
            period=period.window.period,
            tokens_limit=period.tokens_limit,
            tokens_used=state.tokens + state.held_tokens,
            cost_limit=period.cost_limit,
            cost_used=budgets.from_units(state.cost + state.held_cost),
        )
        for period, state in zip(periods, states, strict=True)
    ]
