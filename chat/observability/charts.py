"""Stacked bar charts as geometry for server-rendered SVG: no script, no build
step, and nothing a strict Content-Security-Policy blocks (colours come from CSS
classes, sizes from SVG attributes)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# Series beyond this many are summed into "other"; the stylesheet has a colour for
# each index (s0 ... s7).
MAX_SERIES = 8
OTHER = "other"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass
class StackedBars:
    width: int
    height: int
    left: int
    top: int
    bottom: int
    right: int
    bars: list[Rect] = field(default_factory=list)
    grid: list[Label] = field(default_factory=list)  # y gridlines with their value
    days: list[Label] = field(default_factory=list)  # x labels
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # css, name, total
    total: str = ""

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_right(self) -> int:
        return self.width - self.right


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks`
    gridlines up to `maximum`."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def stacked_bars(
    days: Sequence[date],
    series: dict[str, dict[date, float | int | Decimal]],
    *,
    fmt: Callable[[float], str],
    order: Sequence[str] = (),
    width: int = 880,
    height: int = 240,
) -> StackedBars:
    """One bar per day, stacked by series, the first at the bottom. Series come in
    `order` (so several charts give a series the same colour), the rest largest
    first; beyond MAX_SERIES they are summed into "other"."""
    chart = StackedBars(width, height, left=64, top=12, bottom=28, right=12)
    totals = {
        name: sum(float(v) for v in per_day.values())
        for name, per_day in series.items()
    }
    ranked = [*order, *sorted(set(series) - set(order), key=lambda n: (-totals[n], n))]
    if len(ranked) > MAX_SERIES:
        kept, rest = ranked[: MAX_SERIES - 1], ranked[MAX_SERIES - 1 :]
        other: dict[date, float] = {}
        for name in rest:
            for day, value in series.get(name, {}).items():
                other[day] = other.get(day, 0.0) + float(value)
        series = {**{n: series[n] for n in kept if n in series}, OTHER: other}
        totals[OTHER] = sum(totals.get(n, 0) for n in rest)
        ranked = [*kept, OTHER]
    colour = {name: f"s{i}" for i, name in enumerate(ranked)}
    order = [n for n in ranked if totals.get(n, 0) > 0]
    chart.legend = [(colour[name], name, fmt(totals[name])) for name in order]
    chart.total = fmt(sum(totals[n] for n in order))
    if not days:
        return chart
    per_day = [sum(float(series[n].get(day, 0)) for n in order) for day in days]
    step = nice_step(max(per_day, default=0))
    top_value = step * max(1, math.ceil(max(per_day, default=0) / step))
    plot_h = height - chart.top - chart.bottom
    base = chart.top + plot_h

    def y_of(value: float) -> float:
        return base - value / top_value * plot_h

    for k in range(round(top_value / step) + 1):
        chart.grid.append(
            Label(chart.left - 8, round(y_of(k * step), 1), fmt(k * step))
        )
    slot = chart.plot_width / len(days)
    bar_w = max(1.0, slot * 0.72)
    label_every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        x = chart.left + i * slot + (slot - bar_w) / 2
        if i % label_every == 0:
            chart.days.append(
                Label(round(x + bar_w / 2, 1), height - 8, f"{day:%b} {day.day}")
            )
        stacked = 0.0
        for name in order:
            amount = float(series[name].get(day, 0))
            if amount <= 0:
                continue
            y0, y1 = y_of(stacked), y_of(stacked + amount)
            stacked += amount
            chart.bars.append(
                Rect(
                    round(x, 2),
                    round(y1, 2),
                    round(bar_w, 2),
                    round(max(y0 - y1, 0.5), 2),
                    colour[name],
                    f"{day:%a %d %b}: {name} {fmt(amount)}",
                )
            )
    return chart


def compact(value: float) -> str:
    """12, 1.2k, 3.4M: for axis labels and totals of counts."""
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def money(value: float | Decimal) -> str:
    """$1,234, $1.20, $0.50, and below a cent two significant digits ($0.0042,
    $0.000012): a tiny cost never reads as $0."""
    amount = Decimal(str(value))
    if not amount:
        return "$0"
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if amount >= 100:
        return f"{sign}${amount:,.0f}"
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    whole, cents = f"{amount:.{max(2, 1 - amount.adjusted())}f}".split(".")
    return f"{sign}${whole}.{cents.rstrip('0').ljust(2, '0')}"
