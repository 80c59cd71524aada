"""What every hub offers: the per-reply log that the generating turn writes and any
number of followers read, each from a sequence number of its choice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol


class Hub(Protocol):
    def open(self, message_id: str, task: asyncio.Task | None = None) -> None:
        """Start a reply's log (before its first chunk)."""

    def attach_task(self, message_id: str, task: asyncio.Task) -> None:
        """The task generating the reply, for a stop to cancel."""

    def publish(self, message_id: str, text: str) -> int:
        """Append a chunk of text; returns its sequence number (from 1)."""

    def note(self, message_id: str, frame: dict) -> None:
        """A frame for followers after the chunks published so far (e.g. `usage`)."""

    def close(self, message_id: str, end: dict) -> None:
        """End the log with the reply's `end` frame."""

    async def request_stop(self, message_id: str) -> bool:
        """Ask whoever generates the reply to stop it."""

    async def flush(self, within: float) -> None:
        """Wait (at most `within` seconds) until closed replies are fully written."""

    async def knows(self, message_id: str) -> bool:
        """Whether the reply's log is here to follow (else storage has it)."""

    def follow(self, message_id: str, after: int = 0) -> AsyncIterator[dict]:
        """The reply's frames after chunk `after`, then its end."""
