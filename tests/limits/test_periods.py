from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chat.limits.periods import window

PARIS = ZoneInfo("Europe/Paris")


def at(*parts, zone=UTC) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def test_day_runs_from_local_midnight_to_the_next():
    day = window("day", at(2025, 3, 14, 23, 59, 59), UTC)
    assert day.start == datetime(2025, 3, 14, tzinfo=UTC)
    assert day.end == datetime(2025, 3, 15, tzinfo=UTC)
    assert day.stamp == "20250314"
    assert day.seconds_left(at(2025, 3, 14, 23, 59, 59)) == 1.0


def test_day_boundary_is_in_the_budget_time_zone():
    # 23:30 UTC on the 14th is already the 15th in Paris (UTC+1 in winter).
    day = window("day", at(2025, 3, 14, 23, 30), PARIS)
    assert day.stamp == "20250315"
    assert day.start.timestamp() == at(2025, 3, 14, 23, 0)
    assert day.reset_words() == "resets at 00:00 Europe/Paris"


@pytest.mark.parametrize(
    ("day", "hours"), [((2025, 3, 30), 23), ((2025, 10, 26), 25), ((2025, 6, 1), 24)]
)
def test_days_around_daylight_saving_have_their_real_length(day, hours):
    current = window("day", at(*day, 12, zone=PARIS), PARIS)
    assert current.end.timestamp() - current.start.timestamp() == hours * 3600


def test_a_skipped_midnight_starts_the_day_when_the_clocks_jump():
    santiago = ZoneInfo("America/Santiago")
    # On 8 September 2024 Santiago's clocks went from 00:00 straight to 01:00.
    day = window("day", at(2024, 9, 8, 12, zone=santiago), santiago)
    assert (day.start.hour, day.start.minute) == (1, 0)
    assert day.end.timestamp() - day.start.timestamp() == 23 * 3600


def test_month_rolls_over_the_year():
    month = window("month", at(2024, 12, 31, 23, 59, 59), UTC)
    assert month.stamp == "202412"
    assert month.end == datetime(2025, 1, 1, tzinfo=UTC)
    assert month.reset_words() == "resets on 1 January at 00:00 UTC"


def test_february_of_a_leap_year():
    month = window("month", at(2024, 2, 29, 12), UTC)
    assert month.end - month.start == timedelta(days=29)


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="week"):
        window("week", 0.0, UTC)
