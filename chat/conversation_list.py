"""The sidebar's list of conversations: pages in a stable order (pinned first, then
most recently updated), and what its owner may change about one (title, pinned,
archived)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from chat import protocol, sockets
from chat.errors import InvalidInput
from chat.guards.sanitize import clean_user_text
from chat.models import Conversation

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Longest title text read before cleaning (the column holds 200 characters).
MAX_TITLE_INPUT = 1000
_FIELDS = ("id", "title", "title_source", "created", "updated", "pinned", "archived")


def conversation_info(conversation: Conversation) -> dict:
    """A conversation as the list and PATCH answer with it."""
    return {
        "id": str(conversation.id),
        "title": conversation.title,
        "title_source": conversation.title_source,
        "created": conversation.created,
        "updated": conversation.updated,
        "pinned": conversation.pinned,
        "archived": conversation.archived,
    }


@dataclass(frozen=True)
class Page:
    conversations: list[dict]
    # Where the next page starts (opaque), or None after the last one.
    next: str | None


async def conversation_page(
    *, user, archived: bool = False, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of the user's conversations (the archived ones, or the others),
    pinned first, then newest first; `cursor` is the `next` of the page before.
    Keyset pagination: a page costs the same however deep, and a conversation
    that moves to the top meanwhile is not shown twice."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE_SIZE}.")
    rows = Conversation.objects.filter(user=user, archived=archived)
    if cursor:
        pinned, updated, last = _decode(cursor)
        rows = rows.filter(
            Q(pinned__lt=pinned)
            | Q(pinned=pinned, updated__lt=updated)
            | Q(pinned=pinned, updated=updated, id__lt=last)
        )
    rows = rows.order_by("-pinned", "-updated", "-id").only(*_FIELDS)
    found = [row async for row in rows[: limit + 1]]
    more = len(found) > limit
    found = found[:limit]
    return Page(
        [conversation_info(row) for row in found],
        _encode(found[-1]) if more else None,
    )


def _encode(row: Conversation) -> str:
    key = [row.pinned, row.updated.isoformat(), str(row.id)]
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _decode(cursor: str) -> tuple[bool, datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        pinned, updated, last = orjson.loads(raw)
        if not isinstance(pinned, bool):
            raise ValueError("pinned")
        return pinned, datetime.fromisoformat(updated), uuid.UUID(last)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput("That 'cursor' is not one this list gave.") from None


class ConversationChanges(BaseModel):
    """The body of PATCH /api/conversations/<id>/: any of these, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = Field(default=None, max_length=MAX_TITLE_INPUT)
    pinned: StrictBool | None = None
    archived: StrictBool | None = None


def parse_changes(body: bytes) -> dict:
    """The fields a PATCH sets, validated; InvalidInput names what is wrong."""
    try:
        data = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        raise InvalidInput("The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    try:
        changes = ConversationChanges.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "extra_forbidden":
            raise InvalidInput(
                f"Unknown field '{where}': only title, pinned and archived can change."
            ) from None
        raise InvalidInput(f"Field '{where}': {first['msg']}.") from None
    fields = changes.model_dump(exclude_none=True)
    if not fields:
        raise InvalidInput("Nothing to change: send title, pinned or archived.")
    if "title" in fields:
        fields["title"] = _title(fields["title"])
    return fields


def _title(text: str) -> str:
    """A title as one line of clean text, within the column's length."""
    try:
        title = " ".join(clean_user_text(text, max_chars=MAX_TITLE_INPUT).split())
    except InvalidInput:
        title = ""  # nothing left once cleaned
    if not title:
        raise InvalidInput("A title cannot be empty.")
    limit = Conversation._meta.get_field("title").max_length
    if len(title) > limit:
        raise InvalidInput(f"A title can be at most {limit} characters.")
    return title


async def conversation_update(*, conversation: Conversation, changes: dict) -> dict:
    """Apply checked changes; a title the owner gives is never replaced by the
    model's. Every socket of the owner hears of a new title."""
    fields = dict(changes)
    if "title" in fields:
        fields["title_source"] = Conversation.TitleSource.USER
    # `updated` orders the list by activity: a rename or pin is not activity.
    await Conversation.objects.filter(pk=conversation.pk).aupdate(**fields)
    for name, value in fields.items():
        setattr(conversation, name, value)
    if "title" in fields:
        await sockets.user_broadcast(
            conversation.user_id, protocol.title_frame(conversation)
        )
    return conversation_info(conversation)
