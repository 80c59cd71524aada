"""Logging of errors that repeat: the first of each kind from one source is logged
in full, the rest are counted and reported once, so one misbehaving socket or
client cannot flood the log with identical tracebacks."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

__all__ = ["RepeatedErrors"]


class RepeatedErrors:
    """Per (source, kind): log the first error with its traceback, count the rest
    for `window` seconds, then log the count (at the next error or `flush`)."""

    def __init__(
        self, logger: logging.Logger, *, window: float = 60.0, max_keys: int = 1024
    ) -> None:
        self._log = logger
        self._window = window
        self._max_keys = max_keys
        # key -> [first seen, suppressed count]
        self._seen: OrderedDict[tuple[str, str], list] = OrderedDict()

    def exception(self, message: str, *, source: str, kind: str) -> bool:
        """Call from an except block; True when this one was logged in full."""
        return self._once(self._log.exception, message, source=source, kind=kind)

    def warning(self, message: str, *, source: str, kind: str) -> bool:
        """A failure that is handled (no traceback); True when this one was logged."""
        return self._once(self._log.warning, message, source=source, kind=kind)

    def _once(self, log, message: str, *, source: str, kind: str) -> bool:
        key = (source, kind)
        now = time.monotonic()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self._window:
            entry[1] += 1
            return False
        if entry is not None:
            self._report(key, entry[1])
        self._seen[key] = [now, 0]
        self._seen.move_to_end(key)
        while len(self._seen) > self._max_keys:
            old_key, (_, count) = self._seen.popitem(last=False)
            self._report(old_key, count)
        log("%s (%s from %s)", message, kind, source)
        return True

    def flush(self, source: str | None = None) -> None:
        """Report the counts of suppressed errors (of one source, or all)."""
        for key in [k for k in self._seen if source is None or k[0] == source]:
            self._report(key, self._seen.pop(key)[1])

    def _report(self, key: tuple[str, str], count: int) -> None:
        if count:
            self._log.error(
                "%s from %s repeated %d more times (logged once)", key[1], key[0], count
            )
