"""Reads and writes of conversations and messages (services and selectors)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.access import is_blocked, needs_email_verification
from chat.errors import AccountBlocked, EmailUnverified, InvalidInput, NotFound
from chat.models import USAGE_FIELDS, Conversation, Message, ModelCall
from chat.titles import fallback_title
from chat.tree import Tree


@dataclass
class Exchange:
    """A user message and the assistant message that answers it."""

    conversation: Conversation
    user_message: Message
    reply: Message
    created: bool


async def conversation_get(*, user, conversation_id: uuid.UUID) -> Conversation:
    """The user's conversation; someone else's looks exactly like a missing one."""
    try:
        return await Conversation.objects.aget(id=conversation_id, user=user)
    except Conversation.DoesNotExist:
        raise NotFound() from None


async def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation with its messages; its ledger rows stay (unlinked)."""
    await conversation.adelete()


def exchange_of(*, user, client_id: uuid.UUID) -> Exchange | None:
    user_message = (
        Message.objects.select_related("conversation")
        .filter(conversation__user=user, client_id=client_id, role=Message.Role.USER)
        .first()
    )
    if user_message is None:
        return None
    # The reply stored with it: its first child (later ones are regenerations).
    reply = user_message.children.order_by("created", "id").first()
    if reply is None:
        return None
    return Exchange(user_message.conversation, user_message, reply, created=False)


def exchange_resent(*, user, client_id: uuid.UUID) -> Exchange:
    """The exchange a resent client id already made (its insert hit the unique
    client id), or `invalid` when the id belongs to another kind of message."""
    existing = exchange_of(user=user, client_id=client_id)
    if existing is None:
        raise InvalidInput("That id already belongs to another message.") from None
    return existing


@sync_to_async
def exchange_find(*, user, client_id: uuid.UUID) -> Exchange | None:
    """The exchange an earlier send with this client id made, if any."""
    return exchange_of(user=user, client_id=client_id)


@sync_to_async
def history_get(
    *, conversation: Conversation, before: Message | None = None
) -> list[tuple[str, str]]:
    """(role, text) of the active path (up to one message of it), for the prompt;
    failed and empty replies are left out, partial ones (stopped, interrupted) are
    what the user saw, other branches are not seen at all."""
    history = []
    for message in Tree(conversation.pk).path():
        if before is not None and message.id == before.id:
            break
        skip = {Message.Status.FAILED, Message.Status.STREAMING}
        if message.content and message.status not in skip:
            history.append((message.role, message.content))
    return history


def refuse_blocked(user) -> None:
    """A socket's user object is as old as the socket, so is_active is read afresh
    in the same database trip that stores the message: a user blocked (or deleted)
    since connecting starts nothing, at the price of one primary-key query; an
    account from open sign-up also waits for its verified email (one more)."""
    if is_blocked(user):
        raise AccountBlocked()
    if needs_email_verification(user):
        raise EmailUnverified()


# Names the conversation a send without one starts (see exchange_create).
_NEW_CONVERSATION = uuid.UUID("3f1d6c52-6a0e-4d63-9a55-1f0d2c8e7b41")


@sync_to_async
def exchange_create(
    *,
    user,
    conversation: Conversation | None,
    client_id: uuid.UUID,
    content: str,
    model: str,
    flags: list[str] | None = None,
) -> Exchange:
    """Store the user's message and a `streaming` reply, atomically, before any model
    call. A resend with the same client id, concurrent or not, gets the first one's
    exchange (`created=False`) from the database's own uniqueness, so a new send
    needs no lookup first: in a conversation, (conversation, client id) is unique;
    a send that starts one names it after the user and the client id, so its resend
    collides on the conversation's key."""
    refuse_blocked(user)
    try:
        with transaction.atomic():
            if conversation is None:
                conversation = Conversation.objects.create(
                    id=uuid.uuid5(_NEW_CONVERSATION, f"{user.pk}:{client_id}"),
                    user=user,
                    title=fallback_title(content),
                )
                parent_id = None
            else:
                # Updating the row locks it: the leaf read next is the latest.
                Conversation.objects.filter(pk=conversation.pk).update(
                    updated=timezone.now()
                )
                parent_id = (
                    Conversation.objects.filter(pk=conversation.pk)
                    .values_list("active_leaf_id", flat=True)
                    .get()
                )
            user_message, reply = exchange_store(
                conversation=conversation,
                parent_id=parent_id,
                client_id=client_id,
                content=content,
                model=model,
                flags=flags,
            )
    except IntegrityError:
        return exchange_resent(user=user, client_id=client_id)
    return Exchange(conversation, user_message, reply, created=True)


def exchange_store(
    *,
    conversation: Conversation,
    parent_id: uuid.UUID | None,
    client_id: uuid.UUID,
    content: str,
    model: str,
    flags: list[str] | None,
) -> tuple[Message, Message]:
    """Insert a user message below `parent_id` and its `streaming` reply, and make
    the reply the active leaf; inside the caller's transaction."""
    user_message = Message(
        conversation=conversation,
        parent_id=parent_id,
        role=Message.Role.USER,
        content=content,
        client_id=client_id,
        flags=flags or [],
    )
    reply = Message(
        conversation=conversation,
        parent=user_message,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        model=model,
    )
    # One INSERT for both (their ids are made here, not by the database).
    Message.objects.bulk_create([user_message, reply])
    Conversation.objects.filter(pk=conversation.pk).update(active_leaf=reply)
    conversation.active_leaf_id = reply.id
    return user_message, reply


class Redo(StrEnum):
    """What to do again with a conversation's last reply."""

    REGENERATE = "regenerate"  # answer the same user message anew
    CONTINUE = "continue"  # carry on a reply that was cut short


# Only a reply the user saw end can be redone; only one cut short can be continued.
_REDO_STATUSES = {
    Redo.REGENERATE: {
        Message.Status.COMPLETE,
        Message.Status.CANCELLED,
        Message.Status.INTERRUPTED,
        Message.Status.FILTERED,
        Message.Status.FAILED,
    },
    Redo.CONTINUE: {Message.Status.CANCELLED, Message.Status.INTERRUPTED},
}


@dataclass
class RedoPlan:
    """A checked regenerate or continue: the reply it starts from and the user
    message its chain of continuations answers (a regenerate's new reply is that
    message's next child, a continuation the reply's own)."""

    conversation: Conversation
    target: Message
    user_message: Message


async def redo_find(*, user, client_id: uuid.UUID) -> Exchange | None:
    """The exchange an earlier regenerate or continue with this client id made."""
    reply = (
        await Message.objects.select_related("conversation")
        .filter(
            conversation__user=user, client_id=client_id, role=Message.Role.ASSISTANT
        )
        .afirst()
    )
    if reply is None:
        return None
    user_message = await sync_to_async(_answered)(reply)
    return Exchange(reply.conversation, user_message, reply, created=False)


def _answered(reply: Message) -> Message:
    """The user message a reply (through its chain of continuations) answers."""
    message = reply
    while message.role != Message.Role.USER:
        message = Message.objects.get(pk=message.parent_id)
    return message


def _redo_check(*, user, message_id: uuid.UUID, mode: Redo) -> RedoPlan:
    try:
        target = Message.objects.select_related("conversation").get(
            id=message_id, conversation__user=user, role=Message.Role.ASSISTANT
        )
    except Message.DoesNotExist:
        raise NotFound("That reply does not exist.") from None
    if target.conversation.active_leaf_id != target.id:
        raise InvalidInput(f"Only the last reply of a conversation can {mode.value}.")
    # A complete reply cut by the token limit can be continued too.
    truncated = mode is Redo.CONTINUE and target.truncated
    if target.status not in _REDO_STATUSES[mode] and not truncated:
        raise InvalidInput(
            "That reply is still being written."
            if target.status == Message.Status.STREAMING
            else "Only a reply that was cut short can be continued."
        )
    if mode is Redo.CONTINUE and not target.content:
        raise InvalidInput("That reply has no text to continue; regenerate it.")
    return RedoPlan(target.conversation, target, _answered(target))


@sync_to_async
def redo_plan(*, user, message_id: uuid.UUID, mode: Redo) -> RedoPlan:
    """Check that this reply can be regenerated or continued; InvalidInput says why
    not, NotFound when it is not the user's."""
    return _redo_check(user=user, message_id=message_id, mode=mode)


@sync_to_async
def redo_create(
    *, user, client_id: uuid.UUID, message_id: uuid.UUID, mode: Redo, model: str
) -> Exchange:
    """Store the new `streaming` reply, checking again under the conversation's lock
    (two tabs may press the button at once). A regenerated reply is a new version
    (sibling) of the old one and its continuations, which stay as they are; the new
    reply is the active leaf."""
    refuse_blocked(user)
    try:
        with transaction.atomic():
            # Updating the row locks it until commit: concurrent redos queue here.
            Conversation.objects.filter(
                id__in=Message.objects.filter(id=message_id).values("conversation_id")
            ).update(updated=timezone.now())
            plan = _redo_check(user=user, message_id=message_id, mode=mode)
            reply = Message.objects.create(
                conversation=plan.conversation,
                parent=plan.user_message if mode is Redo.REGENERATE else plan.target,
                role=Message.Role.ASSISTANT,
                status=Message.Status.STREAMING,
                client_id=client_id,
                model=model,
            )
            Conversation.objects.filter(pk=plan.conversation.pk).update(
                active_leaf=reply
            )
    except IntegrityError:
        reply = (
            Message.objects.select_related("conversation")
            .filter(
                conversation__user=user,
                client_id=client_id,
                role=Message.Role.ASSISTANT,
            )
            .first()
        )
        if reply is None:
            raise InvalidInput("That id already belongs to another message.") from None
        return Exchange(reply.conversation, _answered(reply), reply, created=False)
    return Exchange(plan.conversation, plan.user_message, reply, created=True)


@sync_to_async
def reply_checkpoint(*, reply: Message, content: str) -> None:
    """Save the partial text of a streaming reply and show it is alive.

    Every streaming reply does this every CHAT_CHECKPOINT_SECONDS: one statement,
    prepared once per database vendor, where a QuerySet.update() compiled its SQL
    anew each time (several times the cost at hundreds of streams)."""
    updated = Message._meta.get_field("updated")
    params = [
        content,
        updated.get_db_prep_value(timezone.now(), connection),
        Message._meta.pk.get_db_prep_value(reply.pk, connection),
        Message.Status.STREAMING.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_checkpoint_sql(connection.vendor), params)


@functools.cache
def _checkpoint_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    meta = Message._meta
    content, updated, pk, status = (
        quote(meta.get_field(name).column)
        for name in ("content", "updated", meta.pk.name, "status")
    )
    # Names from the model's own metadata, quoted; every value is a parameter.
    return (
        f"UPDATE {quote(meta.db_table)} SET {content} = %s, {updated} = %s "  # noqa: S608
        f"WHERE {pk} = %s AND {status} = %s"
    )


@dataclass
class FailedCall:
    """A model call that failed before any text, then was retried or fell back."""

    model: str
    endpoint: str
    error_code: str
    run_id: str
    duration_ms: int | None
    catalogue_key: str = ""


@dataclass
class ReplyOutcome:
    """How a reply ended: its text and status, where it came from, and the usage
    fields (chat.models.UsageFields) its message and its ledger row both store."""

    content: str
    status: str
    model: str
    endpoint: str
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    usage_estimated: bool
    cost: Decimal
    ttft_ms: int | None
    duration_ms: int
    error_code: str = ""
    run_id: str = ""
    cache_hit: bool = False
    cache_key: str = ""
    failed_calls: list[FailedCall] = field(default_factory=list)
    catalogue_key: str = ""
    # Cut by the provider's token limit (finish_reason "length").
    truncated: bool = False
    # A tool turn's model calls (chat.tools.turn.Round), one ledger row each, and
    # its tool steps as the page shows them.
    rounds: list = field(default_factory=list)
    tool_steps: list = field(default_factory=list)
    # The API key the turn was asked with (None: the page), for the ledger.
    api_key_id: int | None = None

    def usage_fields(self) -> dict:
        """The values of chat.models.USAGE_FIELDS, as the models take them."""
        return {name: getattr(self, name) for name in USAGE_FIELDS}


def reply_final(outcome: ReplyOutcome) -> dict:
    """The reply's fields once it ended, as reply_finish stores them."""
    now = timezone.now()
    return {
        "content": outcome.content,
        "status": outcome.status,
        "model": outcome.model,
        **outcome.usage_fields(),
        "cache_key": outcome.cache_key,
        "truncated": outcome.truncated,
        "tool_steps": outcome.tool_steps,
        "finished": now,
        "updated": now,
    }


def ledger_rows(
    *, user, outcome: ReplyOutcome, conversation=None, message=None
) -> list[ModelCall]:
    """A reply's ledger rows: one per attempt that failed before any text, then
    the call that gave the reply (one per model call of a tool turn)."""
    where = {
        "user": user,
        "conversation": conversation,
        "message": message,
        "api_key_id": outcome.api_key_id,
    }
    failed = [
        ModelCall(
            **where,
            model=call.model,
            catalogue_key=call.catalogue_key,
            endpoint=call.endpoint,
            status=Message.Status.FAILED,
            duration_ms=call.duration_ms,
            error_code=call.error_code,
            run_id=call.run_id,
        )
        for call in outcome.failed_calls
    ]
    answered = [
        ModelCall(
            **where,
            model=outcome.model,
            catalogue_key=outcome.catalogue_key,
            endpoint=outcome.endpoint,
            cache_hit=outcome.cache_hit,
            **usage,
        )
        for usage in _ledger_rows(outcome)
    ]
    return [*failed, *answered]


@sync_to_async
def reply_finish(*, user, exchange: Exchange, outcome: ReplyOutcome) -> Message:
    """Store the reply's final text, status, usage and cost, and its ledger rows."""
    reply = exchange.reply
    final = reply_final(outcome)
    with transaction.atomic():
        # Only a reply still streaming: if a sweeper already judged it dead and
        # billed it, it must not be billed twice.
        claimed = Message.objects.filter(
            pk=reply.pk, status=Message.Status.STREAMING
        ).update(**final)
        if not claimed:
            reply.refresh_from_db()
            return reply
        ModelCall.objects.bulk_create(
            ledger_rows(
                user=user,
                outcome=outcome,
                conversation=exchange.conversation,
                message=reply,
            )
        )
        Conversation.objects.filter(pk=exchange.conversation.pk).update(
            updated=final["updated"]
        )
    # What was written, without reading it back.
    for name, value in final.items():
        setattr(reply, name, value)
    return reply


def _ledger_rows(outcome: ReplyOutcome) -> list[dict]:
    """The usage of each ledger row of a reply: one for the call that gave it, or
    one per model call of a tool turn (the last one carries how the reply ended)."""
    if not outcome.rounds:
        return [
            {
                "status": outcome.status,
                "run_id": outcome.run_id,
                **outcome.usage_fields(),
            }
        ]
    rows = []
    for number, round_ in enumerate(outcome.rounds, 1):
        last = number == len(outcome.rounds)
        rows.append(
            {
                "status": outcome.status if last else Message.Status.COMPLETE,
                "error_code": outcome.error_code if last else "",
                **{
                    name: getattr(round_, name)
                    for name in (*USAGE_FIELDS, "run_id")
                    if hasattr(round_, name)
                },
            }
        )
    return rows


async def reply_get(*, user, message_id: uuid.UUID) -> Message:
    """The user's assistant message, or NotFound."""
    try:
        return await Message.objects.aget(
            id=message_id, conversation__user=user, role=Message.Role.ASSISTANT
        )
    except Message.DoesNotExist:
        raise NotFound("That reply does not exist.") from None


def settings_of(conversation: Conversation) -> dict:
    """What a conversation's next turns use, as the page reads and writes it."""
    return {
        "model": conversation.model_key or None,
        "system_prompt": conversation.system_prompt,
        "temperature": conversation.temperature,
        "max_output_tokens": conversation.max_output_tokens,
    }
