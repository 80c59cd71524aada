"""PostgreSQL full-text search: expression GIN indexes over message text and
titles in the configuration CHAT_SEARCH_LANGUAGE names, queried with the same
expressions (so the planner uses them), ranked by ts_rank, snippets by
ts_headline."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q

from chat.models import Conversation, Message
from chat.search.hits import RESULTS, Hit
from chat.search.snippets import START, STOP

# (index, table, column): what the migration and `manage.py search_index` build.
INDEXES = (
    ("chat_message_search", "chat_message", "content"),
    ("chat_conversation_search", "chat_conversation", "title"),
)
_CONFIG_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def language() -> str:
    """The text search configuration, checked: it is written into index SQL."""
    name = settings.CHAT_SEARCH_LANGUAGE
    if not _CONFIG_NAME.match(name):
        raise ImproperlyConfigured(
            f"CHAT_SEARCH_LANGUAGE={name!r} is not a text search configuration name."
        )
    return name


def index_statements(config: str) -> list[str]:
    """CREATE INDEX statements matching what `search` queries (Django compiles
    SearchVector to exactly this expression)."""
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin "
        f"(to_tsvector('{config}'::regconfig, COALESCE({column}, '')))"
        for name, table, column in INDEXES
    ]


def build_indexes(cursor) -> None:
    """(Re)build the indexes for the configured language."""
    config = language()
    for name, _, _ in INDEXES:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
    for statement in index_statements(config):
        cursor.execute(statement)


def _query(words: list[str]) -> SearchQuery:
    # Words are letters and digits only (chat.search.search_words), so this raw
    # tsquery has no operator but ours: every word, the last as a prefix.
    text = " & ".join([*words[:-1], f"{words[-1]}:*"])
    return SearchQuery(text, search_type="raw", config=language())


def search(*, user_id: int, words: list[str], limit: int):
    query = _query(words)
    config = language()
    message_vector = SearchVector("content", config=config)
    ranked = (
        Message.objects.filter(conversation__user_id=user_id)
        .exclude(status=Message.Status.STREAMING)
        .annotate(search=message_vector)
        .filter(search=query)
        .annotate(rank=SearchRank(message_vector, query))
        .order_by("-rank", "-created")
        .values_list("id", "conversation_id", "rank")[:limit]
    )
    best: dict = {}
    for message_id, conversation_id, rank in ranked:
        best.setdefault(conversation_id, (message_id, rank))
    chosen = dict(list(best.items())[:RESULTS])
    snippets = dict(
        Message.objects.filter(id__in=[m for m, _ in chosen.values()])
        .annotate(snippet=_headline("content", query, config))
        .values_list("id", "snippet")
    )
    hits = [
        Hit(conversation_id, message_id, float(rank), snippets.get(message_id, ""))
        for conversation_id, (message_id, rank) in chosen.items()
    ]
    title_vector = SearchVector("title", config=config)
    titles = (
        Conversation.objects.filter(Q(user_id=user_id))
        .annotate(search=title_vector)
        .filter(search=query)
        .annotate(
            rank=SearchRank(title_vector, query),
            snippet=_headline("title", query, config, whole=True),
        )
        .order_by("-rank", F("updated").desc())
        .values_list("id", "rank", "snippet")[:RESULTS]
    )
    hits += [Hit(pk, None, float(rank), snippet) for pk, rank, snippet in titles]
    return hits


def _headline(field: str, query: SearchQuery, config: str, whole: bool = False):
    return SearchHeadline(
        field,
        query,
        config=config,
        start_sel=START,
        stop_sel=STOP,
        highlight_all=whole,
        max_words=None if whole else 24,
        min_words=None if whole else 10,
        max_fragments=None if whole else 1,
        fragment_delimiter=None if whole else " … ",
    )
