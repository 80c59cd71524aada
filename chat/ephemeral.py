"""Turns that store nothing of what was said: the API's stateless requests.

Such a turn runs every step of chat.turns as a send from the page does (guards,
limits and budgets, upstream queue, response cache, output filter, metrics), but
its exchange lives in memory only: no conversation, no messages. What it spent is
written all the same, as ledger rows (ModelCall) without a conversation or message,
which budgets, totals and the admin read. Its reply reaches the client through the
hub, like every reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import sync_to_async

from chat import conversations
from chat.conversations import ReplyOutcome
from chat.models import Message, ModelCall


@dataclass
class EphemeralExchange:
    """An exchange never saved: its reply has an id (for the hub, logs and
    metrics) and, once ended, its fields (for the end frame)."""

    reply: Message
    conversation: None = None
    user_message: None = None
    created: bool = True


@sync_to_async
def exchange_begin(*, user, model: str) -> EphemeralExchange:
    """What a stored send checks first (a blocked or unverified account starts
    nothing), with nothing stored."""
    conversations.refuse_blocked(user)
    reply = Message(
        role=Message.Role.ASSISTANT, status=Message.Status.STREAMING, model=model
    )
    return EphemeralExchange(reply)


@sync_to_async
def reply_finish(*, user, exchange: EphemeralExchange, outcome: ReplyOutcome):
    """Write the reply's ledger rows only; the reply itself is filled in memory."""
    ModelCall.objects.bulk_create(conversations.ledger_rows(user=user, outcome=outcome))
    reply = exchange.reply
    for name, value in conversations.reply_final(outcome).items():
        setattr(reply, name, value)
    return reply
