"""Usage aggregates over the ledger (ModelCall): the one place budgets, pages,
dashboards and metrics read totals from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from chat.models import ModelCall

_TOTALS = {
    "input_tokens": Sum("input_tokens", default=0),
    "cached_input_tokens": Sum("cached_input_tokens", default=0),
    "output_tokens": Sum("output_tokens", default=0),
    "cost": Sum("cost", default=Decimal(0)),
    "calls": Count("id"),
}


def period_starts(now: datetime | None = None) -> dict[str, datetime]:
    """Start of today and of this month in the current time zone."""
    now = timezone.localtime(now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": day, "month": day.replace(day=1)}


async def usage_totals(*, user, since: datetime) -> dict:
    """A user's totals since a moment."""
    return await ModelCall.objects.filter(user=user, created__gte=since).aaggregate(
        **_TOTALS
    )


async def usage_summary(*, user, now: datetime | None = None) -> dict:
    """Today's and this month's totals for the page."""
    out = {}
    for name, since in period_starts(now).items():
        totals = await usage_totals(user=user, since=since)
        totals["cost"] = f"{totals['cost']:.6f}"
        out[name] = totals
    return out


def usage_by_model(*, since: datetime, user=None):
    """Totals per model since a moment, optionally for one user."""
    calls = ModelCall.objects.filter(created__gte=since)
    if user is not None:
        calls = calls.filter(user=user)
    return calls.values("model").annotate(**_TOTALS).order_by("model")


def usage_by_day(*, since: datetime, user=None):
    """Totals per day and model since a moment, optionally for one user."""
    calls = ModelCall.objects.filter(created__gte=since)
    if user is not None:
        calls = calls.filter(user=user)
    return (
        calls.annotate(day=TruncDay("created"))
        .values("day", "model")
        .annotate(**_TOTALS)
        .order_by("day", "model")
    )


def usage_by_user(*, since: datetime, limit: int = 20):
    """Top users by cost since a moment."""
    return (
        ModelCall.objects.filter(created__gte=since)
        .values("user_id", "user__username")
        .annotate(**_TOTALS)
        .order_by("-cost", "-output_tokens")[:limit]
    )
