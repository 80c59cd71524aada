"""Thumbs up or down on replies: a user rates their own replies, the dashboard
shows the share of thumbs up per model, and the rated exchanges export as an
evaluation dataset (one JSON object per line)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from chat import conversations
from chat.errors import InvalidInput
from chat.guards.sanitize import clean_user_text
from chat.models import Conversation, Feedback, Message, ModelCall

COMMENT_CHARS = 2000


def _rating(value) -> str | None:
    if value is None or value in Feedback.Rating.values:
        return value
    raise InvalidInput('The rating must be "up", "down" or null.')


def _comment(value) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise InvalidInput("The comment must be text.")
    if not value.strip():
        return ""
    return clean_user_text(value, max_chars=COMMENT_CHARS)


async def _catalogue_key(reply: Message) -> str:
    """The catalogue entry the reply's answering call ran on (the conversation's
    model when the ledger has no row, e.g. an imported reply)."""
    call = (
        await ModelCall.objects.filter(message=reply)
        .exclude(status=Message.Status.FAILED)
        .order_by("-created")
        .values_list("catalogue_key", flat=True)
        .afirst()
    )
    if call:
        return call
    return (
        await Conversation.objects.filter(pk=reply.conversation_id)
        .values_list("model_key", flat=True)
        .aget()
    )


async def feedback_set(
    *, user, message_id: uuid.UUID, rating, comment=""
) -> Feedback | None:
    """Rate one of the user's replies (again: the last rating counts); a null
    rating takes the feedback back. Someone else's reply is NotFound."""
    rating, comment = _rating(rating), _comment(comment)
    reply = await conversations.reply_get(user=user, message_id=message_id)
    if reply.status == Message.Status.STREAMING:
        raise InvalidInput("Rate a reply once it has ended.")
    if rating is None:
        await Feedback.objects.filter(message=reply).adelete()
        return None
    feedback, _ = await Feedback.objects.aupdate_or_create(
        message=reply,
        defaults={
            "user": user,
            "rating": rating,
            "comment": comment,
            "model": reply.model,
            "catalogue_key": await _catalogue_key(reply),
        },
    )
    return feedback


def feedback_json(feedback: Feedback | None) -> dict | None:
    if feedback is None:
        return None
    return {"rating": feedback.rating, "comment": feedback.comment}


async def feedback_of(*, messages: Iterable[Message]) -> dict[uuid.UUID, dict]:
    """Each rated message's feedback as the page shows it, in one query."""
    ids = [m.id for m in messages if m.role == Message.Role.ASSISTANT]
    rows = Feedback.objects.filter(message_id__in=ids)
    return {row.message_id: feedback_json(row) async for row in rows}


def approval_by_model(*, since: datetime, until: datetime) -> list[dict]:
    """Per model, ratings given in [since, until): thumbs up, down, and the share
    of thumbs up; most rated first."""
    up = Q(rating=Feedback.Rating.UP)
    rows = (
        Feedback.objects.filter(updated__gte=since, updated__lt=until)
        .order_by()
        .values("model")
        .annotate(up=Count("id", filter=up), down=Count("id", filter=~up))
    )
    table = [{**row, "rated": row["up"] + row["down"]} for row in rows]
    for row in table:
        row["share"] = row["up"] / row["rated"]
    return sorted(table, key=lambda row: (-row["rated"], row["model"]))


def _prompt(reply: Message) -> str:
    """The user message a reply answers (above a continuation, the reply it
    carries on)."""
    message = reply.parent
    while message is not None and message.role != Message.Role.USER:
        message = message.parent
    return message.content if message is not None else ""


def dataset_rows(feedback: QuerySet) -> Iterator[dict]:
    """The rated exchanges for evaluations: prompt, reply, rating, comment, model."""
    rows = feedback.select_related("message__parent").order_by("pk")
    for row in rows.iterator(chunk_size=500):
        yield {
            "prompt": _prompt(row.message),
            "reply": row.message.content,
            "rating": row.rating,
            "comment": row.comment,
            "model": row.model,
            "catalogue_key": row.catalogue_key,
            "conversation": str(row.message.conversation_id),
            "message": str(row.message_id),
            "rated": row.updated.isoformat(),
        }


def dataset_jsonl(feedback: QuerySet) -> Iterator[str]:
    """The dataset as JSON Lines, one rated reply a line."""
    for row in dataset_rows(feedback):
        yield json.dumps(row, ensure_ascii=False) + "\n"
