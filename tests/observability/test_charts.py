"""Chart geometry for the server-rendered SVG charts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from chat.observability.charts import (
    MAX_SERIES,
    OTHER,
    compact,
    money,
    nice_step,
    stacked_bars,
)

DAYS = [date(2026, 11, 1) + timedelta(i) for i in range(30)]


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1), (7, 2), (100, 25), (1234, 500), (0.031, 0.01), (5_000_000, 2_000_000)],
)
def test_gridlines_fall_on_round_numbers(maximum, step):
    assert nice_step(maximum) == pytest.approx(step)


def test_bars_stack_to_each_days_total_within_the_plot():
    series = {
        "a": {DAYS[0]: 30, DAYS[1]: 10},
        "b": {DAYS[0]: 10, DAYS[2]: Decimal("5.5")},
    }
    chart = stacked_bars(DAYS, series, fmt=compact)
    day0 = [bar for bar in chart.bars if bar.x < chart.left + chart.plot_width / 30]
    assert len(day0) == 2
    bottom = chart.height - chart.bottom
    assert max(b.y + b.height for b in day0) == pytest.approx(bottom)
    assert min(b.y for b in day0) >= chart.top
    # Day 0 (40) reaches the top gridline (40): the stack spans the whole grid.
    assert [g.text for g in chart.grid] == ["0", "10", "20", "30", "40"]
    grid_span = max(g.y for g in chart.grid) - min(g.y for g in chart.grid)
    assert sum(b.height for b in day0) == pytest.approx(grid_span)
    assert chart.legend == [("s0", "a", "40"), ("s1", "b", "15.5")]
    assert "Sun 01 Nov: a 30" in {bar.title for bar in chart.bars}
    assert len(chart.days) <= 10


def test_a_given_order_keeps_each_series_colour_across_charts():
    tokens = stacked_bars(DAYS, {"x": {DAYS[0]: 1}, "y": {DAYS[0]: 9}}, fmt=compact)
    ordered = stacked_bars(
        DAYS, {"x": {DAYS[0]: 1}, "y": {DAYS[0]: 9}}, fmt=compact, order=["x", "y"]
    )
    without_x = stacked_bars(DAYS, {"y": {DAYS[0]: 9}}, fmt=compact, order=["x", "y"])
    assert [c for c, name, _ in tokens.legend if name == "y"] == ["s0"]
    assert [c for c, name, _ in ordered.legend if name == "y"] == ["s1"]
    assert without_x.legend == [("s1", "y", "9")]


def test_series_beyond_the_palette_are_summed_as_other():
    series = {f"m{i}": {DAYS[0]: 100 - i} for i in range(MAX_SERIES + 3)}
    chart = stacked_bars(DAYS, series, fmt=compact)
    names = [name for _, name, _ in chart.legend]
    assert len(names) == MAX_SERIES and names[-1] == OTHER
    assert chart.legend[-1][2] == compact(
        sum(100 - i for i in range(7, MAX_SERIES + 3))
    )


def test_no_data_draws_nothing():
    chart = stacked_bars(DAYS, {}, fmt=money)
    assert chart.empty and chart.legend == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1500, "1.5k"),
        (2_000_000, "2M"),
        (148_932_250, "148.9M"),
    ],
)
def test_compact_counts(value, text):
    assert compact(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (Decimal("0.0042"), "$0.0042"),
        (Decimal("0.00001234"), "$0.000012"),
        (Decimal("0.00000001"), "$0.00000001"),
        (Decimal("0.5"), "$0.50"),
        (Decimal("0.12345"), "$0.12"),
        (1.2, "$1.20"),
        (1234.4, "$1,234"),
    ],
)
def test_money(value, text):
    assert money(value) == text
