"""Budget periods (day, month) in settings.TIME_ZONE: where the current one starts
and ends, and how to say when it resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings

PERIODS = ("day", "month")
ADJECTIVES = {"day": "daily", "month": "monthly"}


@dataclass(frozen=True)
class Window:
    """One budget period: [start, end) as aware datetimes in the budget time zone."""

    period: str
    start: datetime
    end: datetime

    @property
    def stamp(self) -> str:
        """The period's name in keys, e.g. 20250131 or 202501."""
        return self.start.strftime("%Y%m%d" if self.period == "day" else "%Y%m")

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.end.timestamp() - now)

    def reset_words(self) -> str:
        """When the period resets, for people: "resets at 00:00 UTC"."""
        zone = getattr(self.end.tzinfo, "key", None) or self.end.tzname()
        at = f"{self.end:%H:%M} {zone}"
        if self.period == "day":
            return f"resets at {at}"
        return f"resets on {self.end.day} {self.end:%B} at {at}"


def budget_zone() -> tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


# The last window computed per (period, zone), with its bounds as timestamps: every
# admission asks, and the answer changes once a day.
_recent: dict[tuple[str, tzinfo], tuple[float, float, Window]] = {}


def window(period: str, now: float, zone: tzinfo | None = None) -> Window:
    """The period containing the instant `now` (seconds since the epoch)."""
    zone = zone or budget_zone()
    recent = _recent.get((period, zone))
    if recent and recent[0] <= now < recent[1]:
        return recent[2]
    current = _window(period, now, zone)
    _recent[(period, zone)] = (
        current.start.timestamp(),
        current.end.timestamp(),
        current,
    )
    return current


def _window(period: str, now: float, zone: tzinfo) -> Window:
    today = datetime.fromtimestamp(now, zone).date()
    if period == "day":
        first, following = today, today + timedelta(days=1)
    elif period == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"Unknown budget period {period!r}.")
    return Window(period, _midnight(first, zone), _midnight(following, zone))


def _midnight(day: date, zone: tzinfo) -> datetime:
    """The first instant of a local day. Where DST skips midnight, the instant the
    clocks jump (shown as the wall time that follows, e.g. 01:00)."""
    instant = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
    return datetime.fromtimestamp(instant, zone)
