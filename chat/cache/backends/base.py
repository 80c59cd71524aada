"""The interface every response-cache store implements.

A store maps a key to a text value, with the model and scope of the entry kept
beside it so invalidation can work by model and by user. Each store has a sync side
(management command, admin, LangChain's sync calls) and an async side (the turn);
whichever is native, the other is derived from it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod


class CacheBackend(ABC):
    """A bounded key -> text store with expiry and an index by model and scope."""

    name = "base"

    @abstractmethod
    async def aget(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    @abstractmethod
    async def aset(
        self, key: str, value: str, *, model: str, scope: str, ttl: float
    ) -> None:
        """Store a value for `ttl` seconds (0: until evicted)."""

    @abstractmethod
    async def adelete(self, key: str) -> bool:
        """Remove one entry; True if it existed."""

    @abstractmethod
    async def aclear(
        self, *, model: str | None = None, scope: str | None = None
    ) -> int:
        """Remove every entry, or those of a model and/or a scope; returns how many."""

    @abstractmethod
    def get(self, key: str) -> str | None: ...

    @abstractmethod
    def set(
        self, key: str, value: str, *, model: str, scope: str, ttl: float
    ) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> bool: ...

    @abstractmethod
    def clear(self, *, model: str | None = None, scope: str | None = None) -> int: ...


class SyncBackend(CacheBackend):
    """A store whose native side is sync; the async side calls it directly (in
    memory) or in a worker thread (file I/O), as `in_thread` says."""

    in_thread = False

    async def _call(self, func, *args, **kwargs):
        if self.in_thread:
            return await asyncio.to_thread(func, *args, **kwargs)
        return func(*args, **kwargs)

    async def aget(self, key: str) -> str | None:
        return await self._call(self.get, key)

    async def aset(
        self, key: str, value: str, *, model: str, scope: str, ttl: float
    ) -> None:
        await self._call(self.set, key, value, model=model, scope=scope, ttl=ttl)

    async def adelete(self, key: str) -> bool:
        return await self._call(self.delete, key)

    async def aclear(
        self, *, model: str | None = None, scope: str | None = None
    ) -> int:
        return await self._call(self.clear, model=model, scope=scope)
