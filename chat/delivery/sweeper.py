"""Every reply reaches a final status, even when its process died: replies whose
process stopped saving progress are marked `interrupted`, and billed for what they
produced (estimated)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.llm.registry import cost, get_spec
from chat.llm.tokens import count_text
from chat.models import Message, ModelCall
from chat.stores import StoreRegistry

log = logging.getLogger("chat.sweeper")

# One sweeping task per event loop (one in daphne, one per test).
_sweepers: StoreRegistry[asyncio.Task] = StoreRegistry(per_loop=True)


@sync_to_async
def stale_replies_sweep(*, older_than: timedelta) -> int:
    """Mark stale `streaming` replies `interrupted`, each with its ledger row."""
    cutoff = timezone.now() - older_than
    return _interrupt(
        Message.objects.filter(status=Message.Status.STREAMING, updated__lt=cutoff)
    )


@sync_to_async
def orphan_interrupt(*, message_id) -> None:
    """A `streaming` reply that no live process generates (found when someone joins
    it) is interrupted now rather than at the next sweep."""
    _interrupt(Message.objects.filter(pk=message_id, status=Message.Status.STREAMING))


def _interrupt(replies) -> int:
    count = 0
    for reply in replies.select_related("conversation", "reply_to"):
        with transaction.atomic():
            claimed = Message.objects.filter(
                pk=reply.pk, status=Message.Status.STREAMING
            ).update(
                status=Message.Status.INTERRUPTED,
                error_code="interrupted",
                finished=timezone.now(),
            )
            if not claimed:
                continue  # another sweeper got there first
            _bill(reply)
            count += 1
    return count


def _bill(reply: Message) -> None:
    try:
        spec = get_spec(reply.model)
    except ValueError:
        spec = None
    question = reply.reply_to.content if reply.reply_to else ""
    input_tokens = count_text(question, reply.model) if question else 0
    output_tokens = count_text(reply.content, reply.model) if reply.content else 0
    price = (
        cost(spec, input_tokens=input_tokens, cached_input_tokens=0,
             output_tokens=output_tokens)
        if spec
        else 0
    )  # fmt: skip
    Message.objects.filter(pk=reply.pk).update(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usage_estimated=True,
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
        usage_estimated=True,
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
        await asyncio.sleep(max(seconds / 2, 1))
