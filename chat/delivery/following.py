"""Following a reply: live from the hub while it streams, from storage after."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from django.utils import timezone

from chat import conversations, protocol
from chat.delivery import get_hub
from chat.delivery.sweeper import orphan_interrupt
from chat.models import Message
from chat.redis_client import redis_enabled


async def reply_for_join(*, user, message_id: uuid.UUID) -> Message:
    """The user's reply to follow; someone else's is reported as missing."""
    return await conversations.reply_get(user=user, message_id=message_id)


# A reply stored this recently may not be in Redis yet: other processes see it once
# its process has written the first entry (milliseconds after the store).
STARTING_SECONDS = 2.0


async def _appears(hub, message_id: str) -> bool:
    """Whether a reply that is still starting shows up in the hub (a resend or a
    join on another process can come within milliseconds of the first send). In
    one process the hub knows a reply as soon as it is stored."""
    if not redis_enabled():
        return False
    reply = (
        await Message.objects.filter(pk=message_id).values("status", "created").afirst()
    )
    if reply is None or reply["status"] != Message.Status.STREAMING:
        return False
    deadline = reply["created"] + timedelta(seconds=STARTING_SECONDS)
    while timezone.now() < deadline:
        await asyncio.sleep(0.05)
        if await hub.knows(message_id):
            return True
    return False


async def reply_frames(message_id: str, *, after: int) -> AsyncIterator[dict]:
    """Every frame of the reply after chunk `after`, each exactly once, in order."""
    hub = get_hub()
    if await hub.knows(message_id) or await _appears(hub, message_id):
        async for frame in hub.follow(message_id, after=after):
            yield frame
            if frame["type"] == "end":
                return
            if frame["type"] == "delta":
                after = frame["seq"]
        # No end frame: the producing process died; storage has the last word.
    reply = await Message.objects.aget(pk=message_id)
    if reply.status == Message.Status.STREAMING:
        # No hub knows it, so no process is generating it: its process died.
        await orphan_interrupt(message_id=message_id)
        reply = await Message.objects.aget(pk=message_id)
    # No longer in memory: the stored text stands for every chunk.
    if after == 0 and reply.content:  # resumes past 0 get only the end frame
        yield {"type": "delta", "message": message_id, "seq": 1, "text": reply.content}
    yield {**protocol.end_frame(reply), "seq": 1 if reply.content else 0}
