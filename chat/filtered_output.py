"""A reply's text through its output filter to the client, with no text stranded.

The output filter scans chunks that arrive close together in one go (its
`coalesce_ms`), so a chunk may come back held even though nothing in it needs
holding. When the model then pauses, the held text must not wait for the next
chunk: a timer on the event loop flushes the filter when its interval is up and
publishes what passed. A leak found by that flush closes the filter at once (so
nothing more is shown); the reply then ends `filtered` at its next chunk or end.
A reply that ends early (a failure, a stop) shows what was collected and passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chat.errors import BlockedOutput
from chat.guards.output_filter import StreamFilter

__all__ = ["FilteredOutput"]


class FilteredOutput:
    """Feeds one reply's pieces through `output_filter` and hands what is safe to
    `publish`; use as a context manager so the timer never outlives the reply."""

    def __init__(
        self, output_filter: StreamFilter, publish: Callable[[str], None]
    ) -> None:
        self._filter = output_filter
        self._publish = publish
        self._timer: asyncio.TimerHandle | None = None
        self._blocked: BlockedOutput | None = None

    def __enter__(self) -> FilteredOutput:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._cancel()
        if exc_type is not None and self._blocked is None:
            # The reply ends early (a failure, a stop): show what a filter
            # scanning every piece would have shown by now.
            try:
                self._show(self._filter.flush())
            except BlockedOutput:
                pass  # the filter is closed; nothing of it is shown

    def feed(self, piece: str) -> None:
        """Filter a piece and publish what is safe; BlockedOutput on a leak (also
        one a timed flush found since the last piece)."""
        self._raise_blocked()
        self._show(self._filter.feed(piece))
        self._arm()

    def finish(self) -> None:
        """The end of the reply: publish the rest."""
        self._cancel()
        self._raise_blocked()
        self._show(self._filter.finish())

    def _show(self, text: str) -> None:
        if text:
            self._publish(text)

    def _arm(self) -> None:
        due = self._filter.flush_due_in()
        if due is None:
            self._cancel()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(due, self._flush)

    def _flush(self) -> None:
        self._timer = None
        try:
            self._show(self._filter.flush())
        except BlockedOutput as exc:
            self._blocked = exc  # the filter is closed: nothing more is shown
            return
        self._arm()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _raise_blocked(self) -> None:
        if self._blocked is not None:
            raise self._blocked
