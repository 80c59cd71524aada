"""The clock the limits read. Windows, leases and period boundaries all take "now"
from here, so tests can stand a minute before midnight and step across it."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests, benchmarks)."""

    def __init__(self, start: datetime | float) -> None:
        self._now = 0.0
        self.set(start)

    def now(self) -> float:
        return self._now

    def set(self, moment: datetime | float) -> None:
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("ManualClock needs an aware datetime.")
            moment = moment.timestamp()
        self._now = float(moment)

    def advance(self, seconds: float) -> None:
        self._now += seconds


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock | None) -> Clock:
    """Install a clock for the whole process (None: the system clock again);
    returns the previous one so a test can put it back."""
    global _clock
    previous, _clock = _clock, clock or SystemClock()
    return previous
