"""Search over one user's conversations: their titles and the text of every
finished message (every version of one too). PostgreSQL full-text search in
production (chat.search.postgres), SQLite FTS5 on the embedded default
(chat.search.sqlite). Both see only the words of a query, never its syntax: quotes,
`*`, `-`, `:`, NEAR and SQL are plain words or nothing."""

from __future__ import annotations

import re
import uuid

from asgiref.sync import sync_to_async
from django.db import connection

from chat.errors import InvalidInput
from chat.models import Conversation
from chat.search.hits import RESULTS, Hit
from chat.search.snippets import marked_html

SEARCH_MAX_CHARS = 200
MAX_WORDS = 12
# Hits read per engine before the best one per conversation is kept.
CANDIDATES = 500
# Letters and digits: no character an engine reads as an operator.
_WORD = re.compile(r"[^\W_]+")


def search_words(query: str) -> list[str]:
    """The words searched for; InvalidInput for a query longer than the limit."""
    if len(query) > SEARCH_MAX_CHARS:
        raise InvalidInput(
            f"A search is at most {SEARCH_MAX_CHARS} characters; this one has "
            f"{len(query)}."
        )
    return _WORD.findall(query.lower())[:MAX_WORDS]


async def conversation_search(*, user, query: str) -> list[dict]:
    """The user's conversations that match, best first (title matches before text
    matches), each with a snippet (safe HTML) and the best matching message."""
    words = search_words(query)
    if not words:
        return []
    hits = await sync_to_async(_hits)(user.pk, words)
    titles: dict[uuid.UUID, Hit] = {}
    messages: dict[uuid.UUID, Hit] = {}
    for hit in hits:
        found = titles if hit.message_id is None else messages
        known = found.get(hit.conversation_id)
        if known is None or hit.score > known.score:
            found[hit.conversation_id] = hit
    order = sorted(
        titles.keys() | messages.keys(),
        key=lambda pk: (
            pk in titles,
            titles[pk].score if pk in titles else 0.0,
            messages[pk].score if pk in messages else 0.0,
        ),
        reverse=True,
    )[:RESULTS]
    rows = {
        row.pk: row
        async for row in Conversation.objects.filter(user=user, pk__in=order).only(
            "id", "title", "updated", "pinned", "archived"
        )
    }
    results = []
    for pk in order:
        row = rows.get(pk)
        if row is None:
            continue
        best = messages.get(pk) or titles[pk]
        results.append(
            {
                "id": str(pk),
                "title": row.title,
                "updated": row.updated,
                "pinned": row.pinned,
                "archived": row.archived,
                "message": str(best.message_id) if best.message_id else None,
                "snippet": marked_html(best.snippet),
            }
        )
    return results


def _hits(user_id: int, words: list[str]) -> list[Hit]:
    if connection.vendor == "postgresql":
        from chat.search import postgres as engine
    elif connection.vendor == "sqlite":
        from chat.search import sqlite as engine
    else:
        raise InvalidInput(f"Search is not available on {connection.vendor}.")
    return engine.search(user_id=user_id, words=words, limit=CANDIDATES)
