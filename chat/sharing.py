"""Read-only links to a conversation as it was when shared.

Sharing copies the messages of the active path into the share (a frozen
snapshot: what is said later is not shared, and a deleted conversation takes its
links with it). The link's token is 256 random bits (`secrets.token_urlsafe`);
only its SHA-256 digest is stored, as for API keys (api/keys.py): a leaked
database holds no working link, and the lookup compares digests, so timing can
reveal at most a digest's prefix, which tells nothing about any token. A
conversation has one live link; sharing it again replaces the link.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from chat import conversations, tree
from chat.errors import InvalidInput, LinkRevoked, NotFound
from chat.models import Conversation, Message, Share

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NOT_FOUND = "There is no conversation at this link. Check that it was copied whole."


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def snapshot(path: list[Message]) -> list[dict]:
    """What a share keeps of the active path: finished text only (a continuation,
    a reply below a reply, joins the one it carries on, as the page shows it)."""
    kept: list[dict] = []
    for message in path:
        if message.status == Message.Status.STREAMING or not message.content:
            continue
        if kept and kept[-1]["role"] == message.role == Message.Role.ASSISTANT:
            kept[-1]["content"] += message.content
            continue
        kept.append(
            {
                "role": message.role,
                "content": message.content,
                "model": message.model,
                "created": message.created.isoformat(),
            }
        )
    return kept


async def share_create(
    *, user, conversation_id: uuid.UUID, show_name: bool = False
) -> tuple[Share, str]:
    """Share the user's conversation as it is now: (the share, its token). The
    token is returned this once; an earlier link to it stops working."""
    conversation = await conversations.conversation_get(
        user=user, conversation_id=conversation_id
    )
    messages = snapshot(await tree.aactive_path(conversation))
    if not messages:
        raise InvalidInput("There is nothing to share yet: this conversation is empty.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share = await _replace_share(
        conversation=conversation,
        user=user,
        token_digest=digest(token),
        title=conversation.title,
        messages=messages,
        show_name=bool(show_name),
    )
    return share, token


@sync_to_async
def _replace_share(*, conversation: Conversation, **fields) -> Share:
    with transaction.atomic():
        _live(conversation).update(revoked=timezone.now())
        return Share.objects.create(conversation=conversation, **fields)


def _live(conversation: Conversation):
    return Share.objects.filter(conversation=conversation, revoked__isnull=True)


async def share_live(*, user, conversation_id: uuid.UUID) -> Share | None:
    """The user's conversation's live share, if any (its token is not stored)."""
    conversation = await conversations.conversation_get(
        user=user, conversation_id=conversation_id
    )
    return await _live(conversation).afirst()


async def share_revoke(*, user, conversation_id: uuid.UUID) -> int:
    """Stop the conversation's link from working, at once; how many were live."""
    conversation = await conversations.conversation_get(
        user=user, conversation_id=conversation_id
    )
    return await _live(conversation).aupdate(revoked=timezone.now())


def share_revoke_all(shares) -> int:
    """Revoke the live ones among `shares` (the admin's action)."""
    return shares.filter(revoked__isnull=True).update(revoked=timezone.now())


def share_get(token: str) -> Share:
    """The share a link's token opens: NotFound for no such link, LinkRevoked for
    one that was revoked."""
    if not _TOKEN_SHAPE.match(token or ""):
        raise NotFound(_NOT_FOUND)
    try:
        share = Share.objects.select_related("user").get(token_digest=digest(token))
    except Share.DoesNotExist:
        raise NotFound(_NOT_FOUND) from None
    if share.revoked is not None:
        raise LinkRevoked()
    return share


def share_continue(*, user, token: str) -> Conversation:
    """A copy of the shared conversation in the user's own account, to carry on:
    one path of the messages as shared, billed to no one (no ledger rows)."""
    share = share_get(token)
    start = timezone.now()
    rows, parent = [], None
    with transaction.atomic():
        copy = Conversation.objects.create(user=user, title=share.title)
        for shared in share.messages:
            parent = Message(
                conversation=copy,
                parent=parent,
                role=shared["role"],
                content=shared["content"],
                model=shared.get("model", ""),
            )
            rows.append(parent)
        Message.objects.bulk_create(rows)
        # One after another (bulk_create stamps them all alike): versions and
        # the page order by creation.
        for position, row in enumerate(rows):
            row.created = start + timedelta(microseconds=position)
        Message.objects.bulk_update(rows, ["created"])
        copy.active_leaf = parent
        copy.save(update_fields=["active_leaf"])
    return copy
