"""In-process reply hub: the embedded default (one server process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.conf import settings

# How long a finished reply stays replayable from memory; later joins read the
# stored message instead.
RETAIN_SECONDS = 60.0


@dataclass
class _Reply:
    chunks: list[str] = field(default_factory=list)
    # Frames other than deltas (errors), each with the chunk count when it was sent.
    notes: list[tuple[int, dict]] = field(default_factory=list)
    end: dict | None = None
    task: asyncio.Task | None = None
    # Followers asleep until the next change: a publish with none costs nothing
    # (an Event per publish cost an object per token).
    waiters: list[asyncio.Future] = field(default_factory=list)
    # Followers waiting out a coalescing window, which the end cuts short.
    batching: list[asyncio.Future] = field(default_factory=list)

    def wake(self) -> None:
        if self.waiters:
            for waiter in self.waiters:
                _resolve(waiter)
            self.waiters.clear()

    def ending(self) -> None:
        for waiter in self.batching:
            _resolve(waiter)
        self.batching.clear()
        self.wake()

    async def batch(self, seconds: float) -> None:
        """Wait out the rest of a coalescing window, or until the reply ends: the
        end frame adds no text to wait for, so a reply that finishes inside the
        window (a cache hit, a short answer) is not held back by it."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self.batching.append(waiter)
        timer = loop.call_later(seconds, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if waiter in self.batching:
                self.batching.remove(waiter)

    async def changed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:  # the follower stopped while asleep
            if waiter in self.waiters:
                self.waiters.remove(waiter)
            raise


def _resolve(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


class MemoryHub:
    def __init__(self, retain_seconds: float = RETAIN_SECONDS) -> None:
        self._replies: dict[str, _Reply] = {}
        self._retain = retain_seconds

    def open(self, message_id: str, task: asyncio.Task | None = None) -> None:
        self._replies[message_id] = _Reply(task=task)

    def attach_task(self, message_id: str, task: asyncio.Task) -> None:
        self._replies[message_id].task = task

    def publish(self, message_id: str, text: str) -> int:
        """Append a chunk; returns its sequence number (from 1)."""
        reply = self._replies[message_id]
        reply.chunks.append(text)
        reply.wake()
        return len(reply.chunks)

    def note(self, message_id: str, frame: dict) -> None:
        reply = self._replies[message_id]
        reply.notes.append((len(reply.chunks), frame))
        reply.wake()

    def close(self, message_id: str, end: dict) -> None:
        reply = self._replies[message_id]
        reply.end = {**end, "seq": len(reply.chunks)}
        reply.task = None
        reply.ending()
        asyncio.get_running_loop().call_later(
            self._retain, self._replies.pop, message_id, None
        )

    async def request_stop(self, message_id: str) -> bool:
        """Cancel the task generating the reply; False when none runs here."""
        reply = self._replies.get(message_id)
        if reply is None or reply.task is None or reply.task.done():
            return False
        reply.task.cancel()
        return True

    async def flush(self, within: float) -> None:
        """Nothing to write: followers in this process already have every frame."""

    async def knows(self, message_id: str) -> bool:
        return message_id in self._replies

    async def follow(self, message_id: str, after: int = 0) -> AsyncIterator[dict]:
        """Frames for one reply: deltas after `after` (coalesced), notes, then end."""
        reply = self._replies[message_id]
        coalesce = settings.CHAT_COALESCE_MS / 1000
        sent = after
        noted = 0
        last_frame = 0.0
        while True:
            if (
                sent >= len(reply.chunks)
                and noted >= len(reply.notes)
                and not reply.end
            ):
                await reply.changed()
                # Leading edge: a chunk after a quiet spell goes out at once; within
                # the window of the last frame, wait out the rest of it to batch.
                wait = last_frame + coalesce - time.monotonic()
                if wait > 0 and reply.end is None:
                    await reply.batch(wait)
            if len(reply.chunks) > sent:
                last_frame = time.monotonic()
                upto = len(reply.chunks)
                yield {
                    "type": "delta",
                    "message": message_id,
                    "seq": upto,
                    "text": "".join(reply.chunks[sent:upto]),
                }
                sent = upto
            while noted < len(reply.notes) and reply.notes[noted][0] <= sent:
                yield reply.notes[noted][1]
                noted += 1
            if reply.end is not None and sent >= len(reply.chunks):
                yield reply.end
                return
