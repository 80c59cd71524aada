"""In-process store: a bounded LRU with per-entry expiry (the embedded default).

Each process has its own, so a management command run from a shell cannot clear a
server's memory store; the admin actions run inside the server and can.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from chat.cache.backends.base import SyncBackend


class _Entry(NamedTuple):
    value: str
    model: str
    scope: str
    expires: float  # on `clock`; inf for no expiry


class MemoryBackend(SyncBackend):
    name = "memory"

    def __init__(
        self, *, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max(1, max_entries)
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # The loop thread and admin threads both use the store; each critical
        # section is a few dict operations.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def set(self, key: str, value: str, *, model: str, scope: str, ttl: float) -> None:
        expires = self.clock() + ttl if ttl > 0 else float("inf")
        with self._lock:
            self._entries[key] = _Entry(value, model, scope, expires)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def clear(self, *, model: str | None = None, scope: str | None = None) -> int:
        with self._lock:
            if model is None and scope is None:
                count = len(self._entries)
                self._entries.clear()
                return count
            doomed = [
                key
                for key, entry in self._entries.items()
                if (model is None or entry.model == model)
                and (scope is None or entry.scope == scope)
            ]
            for key in doomed:
                del self._entries[key]
            return len(doomed)
