"""Usage aggregates over the ledger (ModelCall): the one place pages, dashboards and
metrics read totals from; budgets count the same rows (`ModelCall.objects.billed`).

Totals count the calls the provider answered. A reply served from the response
cache keeps its original token counts in the ledger but costs nothing, so it is
left out of totals (as budgets leave it out) and counted apart by `cache_savings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDay
from django.utils import timezone

from chat.limits import budget_status
from chat.llm.registry import UnknownModel, cost, get_spec
from chat.models import ModelCall
from chat.percentiles import FRACTIONS, Percentiles, percentiles

_TOTALS = {
    "input_tokens": Sum("input_tokens", default=0),
    "cached_input_tokens": Sum("cached_input_tokens", default=0),
    "output_tokens": Sum("output_tokens", default=0),
    "cost": Sum("cost", default=Decimal(0)),
    "calls": Count("id"),
}
LATENCY_FIELDS = ("ttft_ms", "duration_ms")
# The catalogue entry a ledger row used; rows from before the catalogue name their
# provider model instead.
ENTRY = Coalesce(NullIf("catalogue_key", Value("")), "model")


def period_starts(now: datetime | None = None) -> dict[str, datetime]:
    """Start of today and of this month in the current time zone."""
    now = timezone.localtime(now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": day, "month": day.replace(day=1)}


def billed_calls(
    *, since: datetime, until: datetime | None = None, user=None
) -> QuerySet:
    """Ledger rows the provider answered in [since, until), optionally one user's."""
    return ModelCall.objects.billed(since=since, until=until, user=user)


async def usage_totals(*, user, since: datetime) -> dict:
    """A user's totals since a moment."""
    return await billed_calls(since=since, user=user).aaggregate(**_TOTALS)


async def usage_summary(*, user, now: datetime | None = None) -> dict:
    """Today's and this month's totals for the page, and what is left of the user's
    budgets (an empty list when none is configured)."""
    out: dict = {}
    for name, since in period_starts(now).items():
        totals = await usage_totals(user=user, since=since)
        totals["cost"] = f"{totals['cost']:.6f}"
        out[name] = totals
    out["budgets"] = await budgets_left(user=user)
    return out


async def budgets_left(*, user) -> list[dict]:
    """Each current budget period's limit, use, what is left and its reset time."""
    if not settings.CHAT_LIMITS_ENABLED:
        return []  # nothing is enforced, so nothing is left to show
    return [status.as_frame() for status in await budget_status(user=user)]


def usage_by_entry(*, since: datetime, until: datetime | None = None, user=None):
    """Totals per catalogue entry (`entry`) and provider model, optionally for one
    user."""
    calls = billed_calls(since=since, until=until, user=user)
    return (
        calls.annotate(entry=ENTRY)
        .values("entry", "model")
        .annotate(**_TOTALS)
        .order_by("entry", "model")
    )


def usage_by_day(*, since: datetime, until: datetime | None = None, user=None):
    """Totals per day (current time zone), catalogue entry and model, optionally
    for one user."""
    calls = billed_calls(since=since, until=until, user=user)
    return (
        calls.annotate(day=TruncDay("created"), entry=ENTRY)
        .values("day", "entry", "model")
        .annotate(**_TOTALS)
        .order_by("day", "entry", "model")
    )


def usage_by_user(*, since: datetime, until: datetime | None = None, limit: int = 20):
    """Top users by cost."""
    return (
        billed_calls(since=since, until=until)
        .values("user_id", "user__username")
        .annotate(**_TOTALS)
        .order_by("-cost", "-output_tokens")[:limit]
    )


@dataclass
class CacheSavings:
    """Replies served from the response cache and what they would have cost."""

    hits: int = 0
    tokens: int = 0
    saved: Decimal = Decimal(0)
    # Models the price table does not know: their hits are counted, not priced.
    unpriced: list[str] = field(default_factory=list)


def cache_savings(*, since: datetime, until: datetime | None = None) -> CacheSavings:
    """Cache hits in [since, until), priced at today's prices of the catalogue
    entry they stood in for (the registry's, for rows from before the catalogue),
    as this process last loaded the catalogue (catalogue_sync() refreshes it)."""
    hits = ModelCall.objects.filter(created__gte=since, cache_hit=True)
    if until is not None:
        hits = hits.filter(created__lt=until)
    out = CacheSavings()
    rows = hits.annotate(entry=ENTRY).values("entry").annotate(**_TOTALS)
    for row in rows.order_by("entry"):
        out.hits += row["calls"]
        out.tokens += row["input_tokens"] + row["output_tokens"]
        try:
            spec = get_spec(row["entry"])
        except UnknownModel:
            out.unpriced.append(row["entry"])
            continue
        out.saved += cost(
            spec,
            input_tokens=row["input_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
            output_tokens=row["output_tokens"],
        )
    return out


def latency_percentiles(
    *, since: datetime, until: datetime | None = None, fractions=FRACTIONS
) -> Percentiles:
    """p50/p95/p99 of time to first token and duration, overall (key None) and per
    catalogue entry, computed in the database."""
    return percentiles(
        billed_calls(since=since, until=until).annotate(entry=ENTRY),
        LATENCY_FIELDS,
        group_by="entry",
        fractions=fractions,
    )


def with_period_usage(users: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Users annotated with tokens today, tokens and cost this month: correlated
    subqueries on (user, created), so a page of users costs no extra query."""
    starts = period_starts(now)

    def spent(since: datetime, amount, output_field):
        rows = (
            billed_calls(since=since)
            .filter(user=OuterRef("pk"))
            .order_by()
            .values("user")
            .annotate(total=Sum(amount))
            .values("total")
        )
        return Coalesce(
            Subquery(rows[:1], output_field=output_field),
            Value(0, output_field=output_field),
        )

    tokens = F("input_tokens") + F("output_tokens")
    money = DecimalField(max_digits=14, decimal_places=8)
    return users.annotate(
        tokens_today=spent(starts["today"], tokens, BigIntegerField()),
        tokens_month=spent(starts["month"], tokens, BigIntegerField()),
        cost_month=spent(starts["month"], "cost", money),
    )
