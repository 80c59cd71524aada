"""Every reply reaches a final status, even when its process died: replies whose
process stopped saving progress (or, with Redis, stopped its heartbeat) are marked
`interrupted` with the text their stream in Redis holds, and billed for it."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.delivery.redis import dead_replies, stream_text
from chat.llm.registry import cost, get_spec
from chat.llm.tokens import count_text, counting_method
from chat.llm.usage_count import reply_cap
from chat.models import Message, ModelCall
from chat.redis_client import redis_enabled
from chat.stores import StoreRegistry

log = logging.getLogger("chat.sweeper")

# With Redis, dead replies are found by their missing heartbeat: sweep this often.
SWEEP_SECONDS = 3.0
# One sweeping task per event loop (one in daphne, one per test).
_sweepers: StoreRegistry[asyncio.Task] = StoreRegistry(per_loop=True)


async def stale_replies_sweep(*, older_than: timedelta) -> int:
    """Mark stale `streaming` replies `interrupted`, each with its ledger row: those
    without progress for `older_than`, and (with Redis) those whose process stopped
    its heartbeat and its checkpoints some seconds ago (chat/delivery/redis.py)."""
    cutoff = timezone.now() - older_than
    stale = await _ids(status=Message.Status.STREAMING, updated__lt=cutoff)
    if redis_enabled():
        quiet = timezone.now() - timedelta(seconds=_quiet_seconds())
        candidates = await _ids(status=Message.Status.STREAMING, updated__lt=quiet)
        stale += await dead_replies(candidates)
    return await _interrupt(list(dict.fromkeys(stale)))


async def orphan_interrupt(*, message_id) -> None:
    """A `streaming` reply that no live process generates (found when someone joins
    it) is interrupted now rather than at the next sweep."""
    await _interrupt([message_id])


def _quiet_seconds() -> float:
    """How long a live reply can go without a checkpoint (it saves one every
    CHAT_CHECKPOINT_SECONDS while text comes)."""
    return max(2 * settings.CHAT_CHECKPOINT_SECONDS, 10.0)


@sync_to_async
def _ids(**filters) -> list:
    return list(Message.objects.filter(**filters).values_list("pk", flat=True))


async def _interrupt(ids: list) -> int:
    """Interrupt each reply with the longest text known for it: the reply's stream
    in Redis holds every chunk its tabs were sent, the row only the last checkpoint."""
    count = 0
    for message_id in ids:
        text = await stream_text(str(message_id)) if redis_enabled() else None
        count += await _interrupt_one(message_id, text)
    return count


@sync_to_async
def _interrupt_one(message_id, text: str | None) -> int:
    reply = (
        Message.objects.select_related("conversation", "parent")
        .filter(pk=message_id, status=Message.Status.STREAMING)
        .first()
    )
    if reply is None:
        return 0
    if text and len(text) > len(reply.content):
        reply.content = text
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=reply.pk, status=Message.Status.STREAMING
        ).update(
            content=reply.content,
            status=Message.Status.INTERRUPTED,
            error_code="interrupted",
            finished=timezone.now(),
        )
        if not claimed:
            return 0  # another sweeper, or its own process, got there first
        _bill(reply)
    return 1


def _bill(reply: Message) -> None:
    try:
        spec = get_spec(reply.model)
    except ValueError:
        spec = None
    parent = reply.parent
    # A continuation's parent is the reply it carries on: its question is not here.
    question = parent.content if parent and parent.role == Message.Role.USER else ""
    input_tokens = count_text(question, reply.model) if question else 0
    output_tokens = count_text(reply.content, reply.model) if reply.content else 0
    # Exact with a tiktoken encoding; never more than the request could generate.
    output_tokens = min(output_tokens, reply_cap(reply.model))
    estimated = counting_method(reply.model) != "tiktoken"
    price = (
        cost(spec, input_tokens=input_tokens, cached_input_tokens=0,
             output_tokens=output_tokens)
        if spec
        else 0
    )  # fmt: skip
    Message.objects.filter(pk=reply.pk).update(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usage_estimated=estimated,
        cost=price,
    )
    ModelCall.objects.create(
        user_id=reply.conversation.user_id,
        conversation=reply.conversation,
        message=reply,
        model=reply.model,
        status=Message.Status.INTERRUPTED,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usage_estimated=estimated,
        cost=price,
        error_code="interrupted",
    )


def ensure_sweeper() -> None:
    """Start this process's periodic sweep once per event loop."""
    _sweepers.get(
        "sweeper",
        lambda: asyncio.get_running_loop().create_task(
            _sweep_forever(), name="reply-sweeper"
        ),
    )


async def _sweep_forever() -> None:
    seconds = settings.CHAT_STALE_STREAM_SECONDS
    while True:
        try:
            swept = await stale_replies_sweep(older_than=timedelta(seconds=seconds))
            if swept:
                log.warning("marked %d stale replies interrupted", swept)
        except Exception:
            log.exception("reply sweep failed")
        await asyncio.sleep(SWEEP_SECONDS if redis_enabled() else max(seconds / 2, 1))
