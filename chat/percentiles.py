"""Percentiles computed in the database: PostgreSQL's percentile_cont where it
exists, and window functions elsewhere (SQLite 3.25+), so a dashboard never pulls a
column of 100,000 values into Python. Both interpolate linearly between the
two nearest ranks, so they agree to the last digit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import connections
from django.db.models import Aggregate, F, FloatField, QuerySet

FRACTIONS = (0.5, 0.95, 0.99)
SCALE = 1_000_000

# {group or None for all rows: {field: {fraction: value or None}}}
Percentiles = dict[str | None, dict[str, dict[float, float | None]]]


class PercentileCont(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression); PostgreSQL."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)r) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction is between 0 and 1.")
        super().__init__(expression, fraction=float(fraction), **extra)


def percentiles(
    rows: QuerySet,
    fields: Sequence[str],
    *,
    group_by: str,
    fractions: Sequence[float] = FRACTIONS,
) -> Percentiles:
    """Percentiles of each field over all rows (key None) and per `group_by` value;
    NULLs are ignored, a group without values gets None."""
    rows = rows.order_by()
    if connections[rows.db].vendor == "postgresql":
        return _percentile_cont(rows, fields, group_by, fractions)
    out: Percentiles = defaultdict(dict)
    for field in fields:
        for group, values in _by_rank(rows, field, group_by, fractions).items():
            out[group][field] = values
    return _complete(out, fields, fractions)


def _key(field: str, fraction: float) -> str:
    return f"{field}__p{round(fraction * 1000)}"


def _percentile_cont(rows, fields, group_by, fractions) -> Percentiles:
    aggregates = {
        _key(field, p): PercentileCont(field, p) for field in fields for p in fractions
    }
    out: Percentiles = defaultdict(dict)

    def take(group, values: dict) -> None:
        for field in fields:
            out[group][field] = {p: values[_key(field, p)] for p in fractions}

    take(None, rows.aggregate(**aggregates))
    for values in rows.values(group_by).annotate(**aggregates):
        take(values[group_by], values)
    return _complete(out, fields, fractions)


def _by_rank(rows, field, group_by, fractions) -> dict:
    """One query: rank the non-null values per group and overall, and keep only the
    rows at the ranks each fraction interpolates between (at most four per
    fraction and group)."""
    inner = rows.filter(**{f"{field}__isnull": False}).values(g=F(group_by), v=F(field))
    sql, params = inner.query.get_compiler(using=rows.db).as_sql()
    # Ranks in integer arithmetic, identical in SQL and Python: fraction p is
    # k / SCALE, and the lower rank is k * (n - 1) // SCALE.
    wanted = []
    for k in map(_scaled, fractions):  # integers only: they are written into the SQL
        for scope in ("g", "a"):
            low = f"({k} * (n_{scope} - 1)) / {SCALE}"
            wanted.append(f"rn_{scope} - 1 IN ({low}, {low} + 1)")
    ranked = (
        "SELECT g, v, rn_g, n_g, rn_a, n_a FROM ("  # noqa: S608
        "SELECT g, v,"
        " ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) AS rn_g,"
        " COUNT(*) OVER (PARTITION BY g) AS n_g,"
        " ROW_NUMBER() OVER (ORDER BY v) AS rn_a,"
        " COUNT(*) OVER () AS n_a"
        f" FROM ({sql}) calls) ranked WHERE {' OR '.join(wanted)}"
    )
    with connections[rows.db].cursor() as cursor:
        cursor.execute(ranked, params)
        found = cursor.fetchall()
    at: dict = defaultdict(dict)  # group -> {rank (0-based): value}
    size: dict = {}
    for group, value, rn_g, n_g, rn_a, n_a in found:
        at[group][rn_g - 1], size[group] = value, n_g
        at[None][rn_a - 1], size[None] = value, n_a
    return {
        group: {p: _interpolate(at[group], size[group], p) for p in fractions}
        for group in at
    }


def _scaled(fraction: float) -> int:
    return round(float(fraction) * SCALE)


def _interpolate(at: dict[int, float], n: int, fraction: float) -> float:
    low, rest = divmod(_scaled(fraction) * (n - 1), SCALE)
    if low + 1 >= n:
        return float(at[low])
    return float(at[low] + rest / SCALE * (at[low + 1] - at[low]))


def _complete(out: Percentiles, fields, fractions) -> Percentiles:
    """Every group has every field; the overall key is always present."""
    out.setdefault(None, {})
    for values in out.values():
        for field in fields:
            values.setdefault(field, dict.fromkeys(fractions))
    return dict(out)
