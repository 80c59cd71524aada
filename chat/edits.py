"""Edit and resend: a user message of the branch shown gets a new version (a
sibling below the same parent) with the edited text, answered by a new reply; the
old message and everything after it stay, one version switch away (chat/tree.py).
The turn runs through the same pipeline as a send (chat.turns.turn_begin)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.conversations import (
    Exchange,
    exchange_resent,
    exchange_store,
    refuse_blocked,
)
from chat.errors import InvalidInput, NotFound
from chat.models import Conversation, Message
from chat.tree import Tree


@dataclass
class EditPlan:
    """A checked edit: the conversation and the user message it makes a version of."""

    conversation: Conversation
    message: Message


def _edit_check(
    *, user, message_id: uuid.UUID, conversation_id: uuid.UUID | None
) -> EditPlan:
    """Another user's message, a reply, or a message outside the conversation the
    frame names are all answered as an unknown message."""
    message = (
        Message.objects.select_related("conversation")
        .filter(id=message_id, conversation__user=user, role=Message.Role.USER)
        .first()
    )
    if message is None or conversation_id not in (None, message.conversation_id):
        raise NotFound("That message does not exist.")
    if message not in Tree(message.conversation_id).path():
        raise InvalidInput("Only a message of the branch shown can be edited.")
    return EditPlan(message.conversation, message)


@sync_to_async
def edit_plan(
    *, user, message_id: uuid.UUID, conversation_id: uuid.UUID | None = None
) -> EditPlan:
    """Check that this message can be edited; NotFound when it is not the user's
    (or not in `conversation_id`), InvalidInput when it is off the branch shown."""
    return _edit_check(
        user=user, message_id=message_id, conversation_id=conversation_id
    )


@sync_to_async
def edit_create(
    *,
    user,
    client_id: uuid.UUID,
    message_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    content: str,
    model: str,
    flags: list[str] | None = None,
) -> Exchange:
    """Store the edited message beside the old one and its `streaming` reply, and
    make that reply the active leaf; checked again under the conversation's lock. A
    resend with the same client id gets the first one's exchange (`created=False`)."""
    refuse_blocked(user)
    try:
        with transaction.atomic():
            # Updating the row locks it until commit: concurrent turns queue here.
            Conversation.objects.filter(
                id__in=Message.objects.filter(id=message_id).values("conversation_id"),
                user=user,
            ).update(updated=timezone.now())
            plan = _edit_check(
                user=user, message_id=message_id, conversation_id=conversation_id
            )
            user_message, reply = exchange_store(
                conversation=plan.conversation,
                parent_id=plan.message.parent_id,
                client_id=client_id,
                content=content,
                model=model,
                flags=flags,
            )
    except IntegrityError:
        return exchange_resent(user=user, client_id=client_id)
    return Exchange(plan.conversation, user_message, reply, created=True)
