"""One way to hold the instances of swappable stores: the limits' and the cache's
backends, the delivery hubs, the circuit breaker and the Redis clients they share.

Each subsystem chooses its store from settings at use time (as Django's caches and
sessions do) and asks its `StoreRegistry` for the instance built for that choice;
a settings override therefore picks up a fresh instance. A store that holds
connections or tasks of an event loop is kept per loop: the loop is referenced
weakly, and instances of a loop that is closed or collected are dropped, so a new
loop never inherits them (even when it reuses a dead loop's id).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Hashable


class StoreRegistry[T]:
    """Instances by key (the configuration they were built from), built on first use;
    per running event loop when `per_loop`, else shared by the whole process."""

    def __init__(self, *, per_loop: bool) -> None:
        self.per_loop = per_loop
        self._shared: dict[Hashable, T] = {}
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[Hashable, T]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The instance for `key`, built by `build()` the first time."""
        table = self._table()
        instance = table.get(key)
        if instance is None:
            with self._lock:
                instance = table.get(key)
                if instance is None:
                    instance = table[key] = build()
        return instance

    def forget(self) -> list[T]:
        """Drop the instances of the running loop (per loop) or of the process, and
        return them for the caller to close."""
        with self._lock:
            if self.per_loop:
                table = self._loops.pop(asyncio.get_running_loop(), {})
            else:
                table, self._shared = self._shared, {}
        return list(table.values())

    def _table(self) -> dict[Hashable, T]:
        if not self.per_loop:
            return self._shared
        loop = asyncio.get_running_loop()
        table = self._loops.get(loop)
        if table is None:
            with self._lock:
                # Instances often refer to their loop (futures, connections), which
                # would keep a weak key alive: drop closed loops' tables here.
                for old in [old for old in self._loops if old.is_closed()]:
                    del self._loops[old]
                table = self._loops.setdefault(loop, {})
        return table
