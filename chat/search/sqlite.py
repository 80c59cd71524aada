"""SQLite FTS5 on the embedded default. FTS5 needs integer row ids and ours are
UUIDs, so an ordinary table (chat_search_doc) holds one row per title and per
finished message, kept by triggers on the chat tables, and an external-content
FTS5 table (chat_search_fts) indexes it, kept by triggers on that table. The
migration creates all of it, only on SQLite."""

from __future__ import annotations

import uuid

from django.db import connection

from chat.search.hits import Hit

TABLES = [
    """CREATE TABLE chat_search_doc (
        id INTEGER PRIMARY KEY,
        conversation_id char(32) NOT NULL,
        message_id char(32) UNIQUE,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX chat_search_doc_conversation ON chat_search_doc (conversation_id)",
    """CREATE VIRTUAL TABLE chat_search_fts USING fts5(
        body, content='chat_search_doc', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
]

TRIGGERS = {
    "chat_search_doc_ai": """AFTER INSERT ON chat_search_doc BEGIN
        INSERT INTO chat_search_fts (rowid, body) VALUES (new.id, new.body);
    END""",
    "chat_search_doc_ad": """AFTER DELETE ON chat_search_doc BEGIN
        INSERT INTO chat_search_fts (chat_search_fts, rowid, body)
        VALUES ('delete', old.id, old.body);
    END""",
    # Messages: indexed once they stop streaming (checkpoints rewrite the text).
    "chat_search_message_ai": """AFTER INSERT ON chat_message
    WHEN new.status != 'streaming' AND new.content != '' BEGIN
        INSERT INTO chat_search_doc (conversation_id, message_id, body)
        VALUES (new.conversation_id, new.id, new.content);
    END""",
    "chat_search_message_au": """AFTER UPDATE OF content, status ON chat_message
    BEGIN
        DELETE FROM chat_search_doc WHERE message_id = old.id;
        INSERT INTO chat_search_doc (conversation_id, message_id, body)
        SELECT new.conversation_id, new.id, new.content
        WHERE new.status != 'streaming' AND new.content != '';
    END""",
    "chat_search_message_ad": """AFTER DELETE ON chat_message BEGIN
        DELETE FROM chat_search_doc WHERE message_id = old.id;
    END""",
    # Titles: one row per conversation, message_id NULL.
    "chat_search_title_ai": """AFTER INSERT ON chat_conversation
    WHEN new.title != '' BEGIN
        INSERT INTO chat_search_doc (conversation_id, message_id, body)
        VALUES (new.id, NULL, new.title);
    END""",
    "chat_search_title_au": """AFTER UPDATE OF title ON chat_conversation BEGIN
        DELETE FROM chat_search_doc
        WHERE conversation_id = old.id AND message_id IS NULL;
        INSERT INTO chat_search_doc (conversation_id, message_id, body)
        SELECT new.id, NULL, new.title WHERE new.title != '';
    END""",
    "chat_search_title_ad": """AFTER DELETE ON chat_conversation BEGIN
        DELETE FROM chat_search_doc WHERE conversation_id = old.id;
    END""",
}

# Every title and finished message, as the triggers would have stored them.
FILL = [
    """INSERT INTO chat_search_doc (conversation_id, message_id, body)
    SELECT id, NULL, title FROM chat_conversation WHERE title != ''""",
    """INSERT INTO chat_search_doc (conversation_id, message_id, body)
    SELECT conversation_id, id, content FROM chat_message
    WHERE status != 'streaming' AND content != ''""",
]


def create(cursor) -> None:
    """The tables, their triggers, and what already exists (the migration)."""
    for statement in TABLES:
        cursor.execute(statement)
    _create_triggers(cursor, TRIGGERS)
    for statement in FILL:
        cursor.execute(statement)


def repair(cursor) -> bool:
    """After any migration: SQLite rebuilds a table to alter it, dropping its
    triggers; put back the missing ones and refill the index. True if it had to."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
    present = {name for (name,) in cursor.fetchall()}
    if "chat_search_doc" not in present:
        return False  # not migrated that far (or migrated back)
    missing = {name: sql for name, sql in TRIGGERS.items() if name not in present}
    if not missing:
        return False
    _create_triggers(cursor, missing)
    cursor.execute("DELETE FROM chat_search_doc")
    for statement in FILL:
        cursor.execute(statement)
    return True


def drop(cursor) -> None:
    for name in TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute("DROP TABLE IF EXISTS chat_search_fts")
    cursor.execute("DROP TABLE IF EXISTS chat_search_doc")


def _create_triggers(cursor, triggers: dict[str, str]) -> None:
    for name, body in triggers.items():
        cursor.execute(f"CREATE TRIGGER {name} {body}")


_SEARCH = """
SELECT d.conversation_id, d.message_id, -bm25(chat_search_fts) AS score,
       snippet(chat_search_fts, 0, char(2), char(3), '…', 24)
FROM chat_search_fts
JOIN chat_search_doc d ON d.id = chat_search_fts.rowid
JOIN chat_conversation c ON c.id = d.conversation_id
WHERE chat_search_fts MATCH %s AND c.user_id = %s
ORDER BY bm25(chat_search_fts)
LIMIT %s
"""


def match_expression(words: list[str]) -> str:
    """An FTS5 query of quoted strings, the last a prefix: every word must occur.
    Words are letters and digits only, so no quote needs escaping."""
    return " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])


def search(*, user_id: int, words: list[str], limit: int):
    with connection.cursor() as cursor:
        cursor.execute(_SEARCH, [match_expression(words), user_id, limit])
        rows = cursor.fetchall()
    return [
        Hit(
            uuid.UUID(conversation_id),
            uuid.UUID(message_id) if message_id else None,
            float(score),
            snippet,
        )
        for conversation_id, message_id, score, snippet in rows
    ]
