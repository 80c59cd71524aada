"""Reply hub on Redis Streams: any socket on any process can replay a reply from a
sequence number and follow it live; stops reach the process that generates.

Producers never wait on Redis per token: chunks queue locally and one writer task
per reply appends them in batches (each entry carries its last sequence number).
Sockets on the generating process (nearly all of them) follow an in-process copy
with the same sequence numbers; sockets following a reply from another process
share the process's one stream reader (chat/delivery/streams.py), so the number
of followers costs no connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from django.conf import settings
from redis.exceptions import RedisError

from chat.delivery.memory import MemoryHub
from chat.delivery.streams import StreamReader
from chat.redis_client import get_redis, redis_key

log = logging.getLogger("chat.delivery")

# How long a finished reply stays replayable from Redis.
RETAIN_SECONDS = 3600
BLOCK_MS = 2000
# Generous: an event loop stalled for a few seconds must not look like a death.
ALIVE_MS = 10_000
# The stop listener's reconnect delays after Redis drops it: doubling, capped.
LISTEN_RETRY_SECONDS = (0.5, 30.0)
# A reply's writer retries a failed batch with these delays (doubling, capped),
# and gives up after Redis has been unreachable this long.
WRITE_RETRY_SECONDS = (0.2, 5.0)
WRITE_GIVE_UP_SECONDS = 600.0
# How long a finished reply's in-process copy serves joins; Redis has it after.
LOCAL_RETAIN_SECONDS = 5.0


def stream_key(message_id: str) -> str:
    """The reply's stream of chunks, notes and end."""
    return redis_key("reply", message_id)


def alive_key(message_id: str) -> str:
    """Refreshed by the generating process; without it a follower stops waiting."""
    return redis_key("reply", message_id, "alive")


async def stream_text(message_id: str) -> str | None:
    """The text a reply's stream holds (its end's content when it has one), or
    None without a stream: what its tabs were shown, for recovery after a crash."""
    entries = await get_redis().xrange(stream_key(message_id))
    if not entries:
        return None
    text: list[str] = []
    seq = 0
    for _, fields in entries:
        if b"e" in fields:
            return json.loads(fields[b"e"]).get("content", "".join(text))
        if b"c" in fields:
            chunks = json.loads(fields[b"c"])
            last = int(fields[b"s"])
            text.extend(chunks[max(seq + 1 - (last - len(chunks) + 1), 0) :])
            seq = max(seq, last)
    return "".join(text)


async def dead_replies(message_ids: list) -> list:
    """Those of the replies whose process shows no heartbeat."""
    if not message_ids:
        return []
    async with get_redis().pipeline(transaction=False) as pipe:
        for message_id in message_ids:
            pipe.exists(alive_key(str(message_id)))
        alive = await pipe.execute()
    return [m for m, live in zip(message_ids, alive, strict=True) if not live]


def stop_channel() -> str:
    return redis_key("reply-stop")


class _Writer:
    """Batches one reply's chunks into stream entries, in order."""

    def __init__(self, message_id: str) -> None:
        self.key = stream_key(message_id)
        self.alive_key = alive_key(message_id)
        # The first entry makes the reply known to every process at once.
        self.pending: list[tuple[str, str]] = [("o", "1")]
        self.seq = 0
        self.wake = asyncio.Event()
        self.wake.set()
        self.closed = False
        self.task = asyncio.create_task(self._run(), name=f"hub-writer-{message_id}")

    def add(self, field: str, value: str) -> None:
        self.pending.append((field, value))
        self.wake.set()

    async def _run(self) -> None:
        """Write batches in order. Redis going away loses nothing: a batch that
        fails goes back in front of the queue and is written once Redis is back
        (MULTI/EXEC, so all of it or none), so followers that rejoin with `after`
        still get every chunk; chunk entries carry their sequence numbers, and a
        follower skips any it has seen."""
        client = get_redis()
        delay = WRITE_RETRY_SECONDS[0]
        failing_since: float | None = None
        while True:
            try:
                # Wake at least every heartbeat, to show followers we are alive.
                await asyncio.wait_for(self.wake.wait(), BLOCK_MS / 2000)
            except TimeoutError:
                with contextlib.suppress(RedisError):
                    await client.set(self.alive_key, 1, px=ALIVE_MS)
                continue
            self.wake.clear()
            batch, self.pending = self.pending, []
            try:
                seq = await self._write(client, batch)
            except RedisError as exc:
                now = asyncio.get_running_loop().time()
                failing_since = failing_since or now
                if now - failing_since > WRITE_GIVE_UP_SECONDS:
                    log.error("reply stream %s: Redis gone too long; dropped", self.key)
                    return
                log.warning(
                    "reply stream %s: %s; again in %.1f s", self.key, exc, delay
                )
                self.pending = batch + self.pending
                await asyncio.sleep(delay)
                delay = min(delay * 2, WRITE_RETRY_SECONDS[1])
                self.wake.set()
                continue
            self.seq, delay, failing_since = seq, WRITE_RETRY_SECONDS[0], None
            if self.closed and not self.pending:
                return

    async def _write(self, client, batch: list[tuple[str, str]]) -> int:
        """Append one batch atomically; the sequence number after it."""
        seq = self.seq
        chunks: list[str] = []
        async with client.pipeline(transaction=True) as pipe:
            for field, value in batch:
                if field == "t":
                    chunks.append(value)
                    continue
                seq = self._flush(pipe, chunks, seq)
                chunks = []
                if field == "e":
                    value = json.dumps({**json.loads(value), "seq": seq})
                pipe.xadd(self.key, {field: value})
            seq = self._flush(pipe, chunks, seq)
            pipe.expire(self.key, RETAIN_SECONDS)
            if self.closed:
                pipe.delete(self.alive_key)
            else:
                pipe.set(self.alive_key, 1, px=ALIVE_MS)
            await pipe.execute()
        return seq

    def _flush(self, pipe, chunks: list[str], seq: int) -> int:
        """One entry for consecutive chunks, keeping their boundaries for replay."""
        if chunks:
            seq += len(chunks)
            pipe.xadd(self.key, {"c": json.dumps(chunks), "s": seq})
        return seq


class RedisHub:
    def __init__(self) -> None:
        self._writers: dict[str, _Writer] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._listener: asyncio.Task | None = None
        # Writers of closed replies still flushing their last entries.
        self._flushing: set[asyncio.Task] = set()
        # What this process generates, for the sockets here that follow it.
        self._local = MemoryHub(retain_seconds=LOCAL_RETAIN_SECONDS)
        # What other processes generate, for the sockets here that follow it.
        self._reader = StreamReader()

    def open(self, message_id: str, task: asyncio.Task | None = None) -> None:
        self._writers[message_id] = _Writer(message_id)
        self._local.open(message_id)
        if task is not None:
            self._tasks[message_id] = task
        self._ensure_listener()

    def attach_task(self, message_id: str, task: asyncio.Task) -> None:
        self._tasks[message_id] = task

    def publish(self, message_id: str, text: str) -> int:
        self._writers[message_id].add("t", text)
        return self._local.publish(message_id, text)

    def note(self, message_id: str, frame: dict) -> None:
        self._writers[message_id].add("n", json.dumps(frame))
        self._local.note(message_id, frame)

    def close(self, message_id: str, end: dict) -> None:
        self._local.close(message_id, end)
        writer = self._writers.pop(message_id)
        self._tasks.pop(message_id, None)
        writer.closed = True
        writer.add("e", json.dumps(end))
        self._flushing.add(writer.task)
        writer.task.add_done_callback(self._flushing.discard)

    async def flush(self, within: float) -> None:
        """Wait until every reply closed here is in Redis (graceful shutdown)."""
        if self._flushing:
            await asyncio.wait(set(self._flushing), timeout=within)

    async def knows(self, message_id: str) -> bool:
        if message_id in self._writers or await self._local.knows(message_id):
            return True
        return bool(await get_redis().exists(stream_key(message_id)))

    async def request_stop(self, message_id: str) -> bool:
        """Ask every process; the one generating the reply cancels it."""
        if self._cancel_local(message_id):
            return True
        await get_redis().publish(stop_channel(), message_id)
        return True

    def _cancel_local(self, message_id: str) -> bool:
        task = self._tasks.get(message_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="hub-stops")

    async def _listen(self) -> None:
        """Cancel the replies other processes are asked to stop. When Redis drops
        the subscription it is made again, with backoff; a stop published in the
        gap is lost, and that reply runs to its end and is stored."""
        delay = LISTEN_RETRY_SECONDS[0]
        while True:
            pubsub = get_redis().pubsub()
            try:
                await pubsub.subscribe(stop_channel())
                delay = LISTEN_RETRY_SECONDS[0]
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        self._cancel_local(item["data"].decode())
            except RedisError as exc:
                log.warning(
                    "reply-stop subscription lost (%s); again in %.1f s", exc, delay
                )
            finally:
                try:
                    await pubsub.aclose()
                except RedisError:
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_SECONDS[1])

    async def follow(self, message_id: str, after: int = 0) -> AsyncIterator[dict]:
        """Replay chunks after `after`, then block for new ones until the end: from
        this process's copy when the reply is generated here, else from Redis."""
        if await self._local.knows(message_id):
            async for frame in self._local.follow(message_id, after=after):
                yield frame
            return
        key = stream_key(message_id)
        coalesce = settings.CHAT_COALESCE_MS / 1000
        sent = after
        async with self._reader.subscribe(key) as subscription:
            while True:
                entries = await subscription.next_entries(BLOCK_MS / 1000)
                if entries is None:
                    try:
                        if not await get_redis().exists(alive_key(message_id)):
                            return  # its process died: storage has the last word
                    except RedisError:
                        pass  # Redis is away: keep waiting, the reader retries
                    continue
                text: list[str] = []
                for _, fields in entries:
                    if b"o" in fields:
                        continue
                    if b"c" in fields:
                        chunks = json.loads(fields[b"c"])
                        seq = int(fields[b"s"])
                        first = seq - len(chunks) + 1
                        text.extend(chunks[max(sent + 1 - first, 0) :])
                        sent = max(sent, seq)
                        continue
                    if text:
                        yield _delta(message_id, sent, text)
                        text = []
                    yield json.loads(fields.get(b"n") or fields[b"e"])
                    if b"e" in fields:
                        return
                if text:
                    yield _delta(message_id, sent, text)
                if coalesce:
                    await asyncio.sleep(coalesce)


def _delta(message_id: str, seq: int, text: list[str]) -> dict:
    return {"type": "delta", "message": message_id, "seq": seq, "text": "".join(text)}
