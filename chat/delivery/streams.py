"""One reader per process for the reply streams that its sockets follow from other
processes: a single blocking XREAD over every followed stream, fanned out to each
follower. Before, each follower held a pooled connection in its own XREAD, so
connections grew with the number of sockets (issue 18: 178 on two processes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from chat.redis_client import get_redis

log = logging.getLogger("chat.delivery")

# How long one XREAD blocks: also how soon a newly followed stream is read.
BLOCK_MS = 250
COUNT = 512
Entries = list[tuple[bytes, dict]]


class Subscription:
    """What one follower reads: entries it missed (read before it came), then the
    reader's live ones, each once and in order."""

    def __init__(self) -> None:
        self.backlog: Entries = []
        self.queue: asyncio.Queue[Entries] = asyncio.Queue()

    async def next_entries(self, wait_seconds: float) -> Entries | None:
        """The next entries, or None when none came within `wait_seconds`."""
        if self.backlog:
            entries, self.backlog = self.backlog, []
            return entries
        try:
            entries = await asyncio.wait_for(self.queue.get(), wait_seconds)
        except TimeoutError:
            return None
        while not self.queue.empty():
            entries = entries + self.queue.get_nowait()
        return entries


class StreamReader:
    def __init__(self) -> None:
        self._cursors: dict[str, bytes | str] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self, key: str) -> AsyncIterator[Subscription]:
        """Follow a stream from its start for as long as the context lasts."""
        sub = Subscription()
        subscribers = self._subscribers.setdefault(key, set())
        subscribers.add(sub)
        read_up_to = self._cursors.get(key)
        if read_up_to is None:
            self._cursors[key] = "0-0"
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="reply-stream-reader")
        try:
            if read_up_to not in (None, "0-0"):
                # Already read for others: what they got before this one came.
                sub.backlog = await get_redis().xrange(key, "-", read_up_to)
            yield sub
        finally:
            subscribers.discard(sub)
            if not subscribers:
                self._subscribers.pop(key, None)
                self._cursors.pop(key, None)

    async def _run(self) -> None:
        client = get_redis(blocking_reads=True)
        delay = 0.1
        while self._cursors:
            try:
                result = await client.xread(
                    dict(self._cursors), block=BLOCK_MS, count=COUNT
                )
            except RedisError as exc:
                log.warning("reply stream reader: %s; again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            for raw_key, entries in result or ():
                key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
                if key not in self._cursors or not entries:
                    continue  # its last follower left meanwhile
                self._cursors[key] = entries[-1][0]
                for sub in self._subscribers.get(key, ()):
                    sub.queue.put_nowait(entries)
