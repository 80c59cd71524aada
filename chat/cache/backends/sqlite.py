"""A store in one SQLite file, through the stdlib driver in a worker thread.

Survives restarts and is shared by every process on the host (WAL mode, a busy
timeout for concurrent writers). aiosqlite would add a dependency to do the same
thing (it also runs sqlite3 in a thread), so `asyncio.to_thread` it is.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chat.cache.backends.base import SyncBackend

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    model TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires REAL NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_cache_model ON llm_cache (model);
CREATE INDEX IF NOT EXISTS llm_cache_scope ON llm_cache (scope);
CREATE INDEX IF NOT EXISTS llm_cache_expires ON llm_cache (expires);
CREATE INDEX IF NOT EXISTS llm_cache_used ON llm_cache (used);
"""


class SqliteBackend(SyncBackend):
    name = "sqlite"
    in_thread = True

    def __init__(
        self,
        *,
        path: str | Path,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_entries = max(1, max_entries)
        # Wall-clock time: expiry must mean the same thing after a restart.
        self.clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=5, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def get(self, key: str) -> str | None:
        now = self.clock()
        with self._lock:
            db = self._db()
            row = db.execute(
                "SELECT value, expires FROM llm_cache WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if row[1] <= now:
                db.execute("DELETE FROM llm_cache WHERE key = ?", (key,))
                return None
            db.execute("UPDATE llm_cache SET used = ? WHERE key = ?", (now, key))
            return row[0]

    def set(self, key: str, value: str, *, model: str, scope: str, ttl: float) -> None:
        now = self.clock()
        expires = now + ttl if ttl > 0 else float("inf")
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?, ?, ?, ?)",
                    (key, value, model, scope, expires, now),
                )
                db.execute("DELETE FROM llm_cache WHERE expires <= ?", (now,))
                # Least recently used beyond the bound.
                db.execute(
                    "DELETE FROM llm_cache WHERE key IN (SELECT key FROM llm_cache "
                    "ORDER BY used DESC LIMIT -1 OFFSET ?)",
                    (self.max_entries,),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def delete(self, key: str) -> bool:
        with self._lock:
            cursor = self._db().execute("DELETE FROM llm_cache WHERE key = ?", (key,))
            return cursor.rowcount > 0

    def clear(self, *, model: str | None = None, scope: str | None = None) -> int:
        where, args = [], []
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if scope is not None:
            where.append("scope = ?")
            args.append(scope)
        sql = "DELETE FROM llm_cache"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            return self._db().execute(sql, args).rowcount
