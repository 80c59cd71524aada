"""Token and cost budgets per user and period. A turn holds its estimate (input
plus reply cap) before the call and settles the real usage after, so concurrent
turns can never overrun a budget. Period counters live in the backend, seeded from
the usage ledger (ModelCall) when missing: after a Redis flush or a restart of the
in-process store, budgets still count what was spent."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from django.db.models import Sum

from chat.errors import BudgetExhausted
from chat.limits.backends.base import BackendUnavailable, BudgetCounter, LimitsBackend
from chat.limits.clock import Clock, get_clock
from chat.limits.exceptions import LimitsUnavailable
from chat.limits.keys import UserKeys, user_keys
from chat.limits.periods import ADJECTIVES, PERIODS, Window, window
from chat.limits.policies import Policy, policy_for
from chat.models import ModelCall

log = logging.getLogger("chat.limits")

# Costs are counted in integer units of 1e-8 (Message.cost's precision), so Redis
# adds them exactly.
COST_UNIT = Decimal("0.00000001")
# A counter outlives its period by this long, so a reply admitted just before the
# boundary still settles into it.
GRACE_SECONDS = 2 * 86400


def to_units(amount: Decimal | int | float | None) -> int:
    """Cost in units, rounded up (never under-count spending)."""
    if not amount:
        return 0
    units = (Decimal(str(amount)) / COST_UNIT).to_integral_value(ROUND_CEILING)
    return max(0, int(units))


def from_units(units: int) -> Decimal:
    return (Decimal(units) * COST_UNIT).quantize(COST_UNIT)


@dataclass(frozen=True)
class Period:
    """One budget period of one user, with its limits and its counter."""

    window: Window
    tokens_limit: int | None
    cost_limit: Decimal | None
    counter: BudgetCounter


def periods_for(policy: Policy, keys: UserKeys, now: float) -> list[Period]:
    """The current periods that have a budget under this policy."""
    periods = []
    for name in PERIODS:
        tokens, cost = policy.budget(name)
        if tokens is None and cost is None:
            continue
        current = window(name, now)
        counter = BudgetCounter(
            key=keys.budget(current),
            tokens_limit=tokens,
            cost_limit=None if cost is None else to_units(cost),
            ttl=math.ceil(current.seconds_left(now)) + GRACE_SECONDS,
        )
        periods.append(Period(current, tokens, cost, counter))
    return periods


async def ledger_totals(*, user_id: object, start: datetime, end: datetime) -> tuple:
    """(tokens, cost units) a user spent in [start, end), per the ledger; cache hits
    cost nothing."""
    totals = await ModelCall.objects.billed(
        since=start, until=end, user=user_id
    ).aaggregate(
        input=Sum("input_tokens", default=0),
        output=Sum("output_tokens", default=0),
        cost=Sum("cost", default=Decimal(0)),
    )
    return totals["input"] + totals["output"], to_units(totals["cost"])


async def seed(backend: LimitsBackend, *, user_id: object, period: Period) -> None:
    """Create a missing period counter from the ledger (a no-op if another process
    got there first)."""
    tokens, cost = await ledger_totals(
        user_id=user_id, start=period.window.start, end=period.window.end
    )
    counter = period.counter
    await backend.counter_seed(
        key=counter.key, tokens=tokens, cost=cost, ttl=counter.ttl
    )


async def budget_reset(*, user_id: object, clock: Clock | None = None) -> None:
    """Forgive what a user spent in the current day and month (an admin action):
    their counters restart at zero, while replies in flight keep their holds. The
    ledger is untouched; a counter lost later (Redis flushed) is seeded from it
    again, so a reset lasts only as long as the limits store keeps it."""
    from chat.limits.backends import get_backend

    now = (clock or get_clock()).now()
    keys = user_keys(user_id)
    backend = get_backend()
    try:
        for name in PERIODS:
            current = window(name, now)
            ttl = math.ceil(current.seconds_left(now)) + GRACE_SECONDS
            await backend.counter_reset(key=keys.budget(current), ttl=ttl)
    except BackendUnavailable as exc:
        raise LimitsUnavailable(detail=str(exc)) from None


def exhausted(periods: list[Period], which: tuple, now: float) -> BudgetExhausted:
    """The refusal for spent budgets: it names the one that resets last (nothing can
    be sent before then) and when that is."""
    index, kinds = max(which, key=lambda item: periods[item[0]].window.end)
    period = periods[index]
    spent = []
    if "t" in kinds:
        spent.append(f"{period.tokens_limit:,} tokens")
    if "c" in kinds:
        spent.append(_money(period.cost_limit))
    adjective = ADJECTIVES[period.window.period]
    return BudgetExhausted(
        # Said the same whether it is spent or just too little is left for this
        # message (its hold is the input estimate plus the reply cap).
        f"Not enough is left of your {adjective} budget of {' and '.join(spent)} "
        f"for this message; it {period.window.reset_words()}.",
        retry_after=period.window.seconds_left(now),
    )


def _money(amount: Decimal) -> str:
    if amount == amount.quantize(Decimal("0.01")):
        return f"${amount:,.2f}"
    return f"${amount.normalize():f}"


@dataclass(frozen=True)
class BudgetStatus:
    """A user's budget for one period, for the page."""

    period: str
    tokens_limit: int | None
    tokens_used: int
    tokens_held: int
    cost_limit: Decimal | None
    cost_used: Decimal
    cost_held: Decimal
    resets_at: datetime
    reset_words: str

    @property
    def tokens_left(self) -> int | None:
        if self.tokens_limit is None:
            return None
        return max(0, self.tokens_limit - self.tokens_used - self.tokens_held)

    @property
    def cost_left(self) -> Decimal | None:
        if self.cost_limit is None:
            return None
        return max(Decimal(0), self.cost_limit - self.cost_used - self.cost_held)

    def as_frame(self) -> dict:
        """JSON-ready, for a frame or a view."""

        def text(amount: Decimal | None) -> str | None:
            return None if amount is None else f"{amount:f}"

        return {
            "period": self.period,
            "tokens_limit": self.tokens_limit,
            "tokens_used": self.tokens_used + self.tokens_held,
            "tokens_left": self.tokens_left,
            "cost_limit": text(self.cost_limit),
            "cost_used": text(self.cost_used + self.cost_held),
            "cost_left": text(self.cost_left),
            "resets_at": self.resets_at.isoformat(),
            "resets": self.reset_words,
        }


async def budget_status(
    *, user, policy: Policy | None = None, clock: Clock | None = None
) -> list[BudgetStatus]:
    """Each current period's budget of a user: limit, used, held, reset time."""
    from chat.limits.backends import get_backend

    user_id = getattr(user, "pk", user)
    now = (clock or get_clock()).now()
    periods = periods_for(policy or await policy_for(user), user_keys(user_id), now)
    backend = get_backend()
    try:
        states = await backend.counter_read(
            keys=[p.counter.key for p in periods], now=now
        )
        for i, (period, state) in enumerate(zip(periods, states, strict=True)):
            if not state.exists:
                await seed(backend, user_id=user_id, period=period)
                (states[i],) = await backend.counter_read(
                    keys=[period.counter.key], now=now
                )
    except BackendUnavailable as exc:
        # Display only: the page shows no budget rather than an error.
        log.warning("budget status unavailable: %s", exc)
        return []
    out = []
    for period, state in zip(periods, states, strict=True):
        out.append(
            BudgetStatus(
                period=period.window.period,
                tokens_limit=period.tokens_limit,
                tokens_used=state.tokens,
                tokens_held=state.held_tokens,
                cost_limit=period.cost_limit,
                cost_used=from_units(state.cost),
                cost_held=from_units(state.held_cost),
                resets_at=period.window.end,
                reset_words=period.window.reset_words(),
            )
        )
    return out
