"""What the admin's usage dashboard and errors page show, assembled from the ledger
(chat.usage) and the error records with a fixed number of queries whatever the
number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay
from django.utils import timezone

from chat import usage
from chat.catalogue.store import catalogue_sync
from chat.llm.registry import COST_QUANTUM
from chat.models import ErrorRecord
from chat.observability.charts import compact, money, stacked_bars

DEFAULT_DAYS = 30
MAX_DAYS = 366
PRESETS = (7, 30, 90)
_COUNTED = ("input_tokens", "cached_input_tokens", "output_tokens", "calls")


@dataclass(frozen=True)
class DateRange:
    """Whole days in the current time zone, both ends included."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(1), time.min))

    @property
    def days(self) -> list[date]:
        return [
            self.first + timedelta(i) for i in range((self.last - self.first).days + 1)
        ]

    @classmethod
    def last_days(cls, count: int, today: date | None = None) -> DateRange:
        today = today or timezone.localdate()
        return cls(today - timedelta(count - 1), today)


class DateInput(forms.DateInput):
    input_type = "date"
    format = "%Y-%m-%d"  # what <input type="date"> reads


class RangeForm(forms.Form):
    start = forms.DateField(required=False, widget=DateInput)
    end = forms.DateField(required=False, widget=DateInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start comes after the end.")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data

    def date_range(self, today: date | None = None) -> DateRange:
        """The chosen days; the last 30 when none or an invalid range is given."""
        today = today or timezone.localdate()
        default = DateRange.last_days(DEFAULT_DAYS, today)
        if not self.is_valid():
            return default
        end = self.cleaned_data.get("end") or today
        start = self.cleaned_data.get("start") or end - timedelta(DEFAULT_DAYS - 1)
        return DateRange(start, end) if start <= end else default


def range_form(params) -> tuple[RangeForm, DateRange]:
    """The range form for a request's GET and the days it selects; an empty form
    shows the default range in its inputs."""
    if not params.get("start") and not params.get("end"):
        span = DateRange.last_days(DEFAULT_DAYS)
        return RangeForm(initial={"start": span.first, "end": span.last}), span
    form = RangeForm(params)
    return form, form.date_range()


def _by_day(rows, key: str, amount: str) -> dict[str, dict[date, float]]:
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for row in rows:
        day = (
            timezone.localtime(row["day"]).date()
            if isinstance(row["day"], datetime)
            else row["day"]
        )
        series[row[key]][day] = series[row[key]].get(day, 0) + float(row[amount])
    return series


def usage_report(span: DateRange) -> dict:
    """The dashboard's figures for a range of days: totals, per-day charts by
    catalogue entry, per-entry table, top users, cache savings and latency
    percentiles."""
    since, until = span.since, span.until
    catalogue_sync()  # cache hits are priced at the catalogue's prices now
    # One GROUP BY (day, entry, model) feeds the charts, the per-entry table and
    # the totals.
    daily = list(usage.usage_by_day(since=since, until=until))
    totals = _add(daily)
    per_entry: dict[str, list[dict]] = defaultdict(list)
    for row in daily:
        per_entry[row["entry"]].append(row)
        row["tokens"] = row["input_tokens"] + row["output_tokens"]
    models = [
        {
            "entry": entry,
            "models": sorted({row["model"] for row in rows}),
            # The model calls behind the row (rows before the catalogue: by model).
            "filter": urlencode(
                {"model" if entry == rows[0]["model"] else "catalogue_key": entry}
            ),
            **_add(rows),
        }
        for entry, rows in sorted(per_entry.items())
    ]
    # Colours by entry, the same in both charts: most tokens first.
    palette = [row["entry"] for row in sorted(models, key=lambda r: -r["tokens"])]
    top = list(usage.usage_by_user(since=since, until=until, limit=10))
    cache = usage.cache_savings(since=since, until=until)
    lookups = cache.hits + totals["calls"]
    latency = usage.latency_percentiles(since=since, until=until)
    errors = ErrorRecord.objects.filter(created__gte=since, created__lt=until).count()
    top_cost = max((row["cost"] for row in top), default=Decimal(0))
    for row in top:
        row["share"] = float(row["cost"] / top_cost) if top_cost else 0.0
    latency_rows = [{"entry": "All models", **_latency(latency.pop(None))}]
    latency_rows += [
        {"entry": entry, **_latency(values)}
        for entry, values in sorted(latency.items())
    ]
    return {
        "span": span,
        "totals": totals,
        "tokens_text": compact(totals["tokens"]),
        "tokens_chart": stacked_bars(
            span.days,
            _by_day(daily, "entry", "tokens"),
            fmt=compact,
            order=palette,
            width=1100,
        ),
        "cost_chart": stacked_bars(
            span.days,
            _by_day(daily, "entry", "cost"),
            fmt=money,
            order=palette,
            width=1100,
        ),
        "models": models,
        "top_users": top,
        "cache": cache,
        "cache_rate": cache.hits / lookups if lookups else None,
        "cache_rate_text": f"{cache.hits / lookups:.1%}" if lookups else "—",
        "latency": latency_rows,
        "errors": errors,
    }


def _add(rows: list[dict]) -> dict:
    """Usage rows added up. Costs at the ledger's precision, 1e-8: SQLite sums
    decimals as floats."""
    total = {**dict.fromkeys(_COUNTED, 0), "cost": Decimal(0)}
    for row in rows:
        for name in _COUNTED:
            total[name] += row[name]
        total["cost"] += Decimal(row["cost"]).quantize(COST_QUANTUM)
    total["tokens"] = total["input_tokens"] + total["output_tokens"]
    return total


def _latency(values: dict[str, dict[float, float | None]]) -> dict:
    return {
        field: [None if v is None else round(v) for v in values[field].values()]
        for field in usage.LATENCY_FIELDS
    }


def error_report(records: QuerySet, span: DateRange) -> dict:
    """Counts of the (filtered) error records by kind and code, and per day and code
    over the span, for the errors page."""
    pairs = sorted(
        records.order_by().values("kind", "code").annotate(n=Count("id")),
        key=lambda row: (-row["n"], row["kind"], row["code"]),
    )
    daily = (
        records.filter(created__gte=span.since, created__lt=span.until)
        .order_by()
        .annotate(day=TruncDay("created"))
        .values("day", "code")
        .annotate(n=Count("id"))
    )
    return {
        "span": span,
        "total": sum(row["n"] for row in pairs),
        "pairs": pairs,
        "chart": stacked_bars(
            span.days, _by_day(daily, "code", "n"), fmt=compact, width=600, height=220
        ),
    }
