"""A store in Redis through redis.asyncio, shared by every process (production).

Layout under the namespace (default ``chat:llmcache``):

- ``<ns>:e:<key>``      the entry (a string with the server's expiry);
- ``<ns>:all``, ``<ns>:m:<model>``, ``<ns>:u:<scope>``  sorted sets of keys scored
  by expiry time (ms): the index for invalidation by model and by user. Expired
  members are trimmed on each write, so the index stays as small as the cache.

The bound on entries drops the entries that expire first (oldest written); for an
LRU under memory pressure, also give Redis a ``maxmemory-policy``.

Django's cache API is not used: its async methods run the sync client in the one
shared sync thread (`sync_to_async(thread_sensitive=True)`), behind every ORM call
(see docs/cache.md for the measured cost).
"""

from __future__ import annotations

import asyncio
import threading
import time

import redis.asyncio as aioredis
from django.conf import settings

from chat.cache.backends.base import CacheBackend
from chat.redis_client import get_redis

# Entries removed per round trip when clearing.
BATCH = 500


class RedisBackend(CacheBackend):
    name = "redis"

    def __init__(self, *, namespace: str, max_entries: int) -> None:
        self.namespace = namespace
        self.max_entries = max(1, max_entries)

    def _entry(self, key: str) -> str:
        return f"{self.namespace}:e:{key}"

    def _all(self) -> str:
        return f"{self.namespace}:all"

    def _by_model(self, model: str) -> str:
        return f"{self.namespace}:m:{model}"

    def _by_scope(self, scope: str) -> str:
        return f"{self.namespace}:u:{scope}"

    # --- async: the per-turn path, on the loop's shared client ------------------

    async def aget(self, key: str) -> str | None:
        return await self._get(get_redis(), key)

    async def aset(
        self, key: str, value: str, *, model: str, scope: str, ttl: float
    ) -> None:
        await self._set(get_redis(), key, value, model=model, scope=scope, ttl=ttl)

    async def adelete(self, key: str) -> bool:
        return await self._delete(get_redis(), key)

    async def aclear(
        self, *, model: str | None = None, scope: str | None = None
    ) -> int:
        return await self._clear(get_redis(), model=model, scope=scope)

    # --- sync: admin, management command, LangChain's sync calls ----------------

    def get(self, key: str) -> str | None:
        return _run_sync(self._get, key)

    def set(self, key: str, value: str, *, model: str, scope: str, ttl: float) -> None:
        _run_sync(self._set, key, value, model=model, scope=scope, ttl=ttl)

    def delete(self, key: str) -> bool:
        return _run_sync(self._delete, key)

    def clear(self, *, model: str | None = None, scope: str | None = None) -> int:
        return _run_sync(self._clear, model=model, scope=scope)

    # --- the commands, once --------------------------------------------------------

    async def _get(self, client: aioredis.Redis, key: str) -> str | None:
        value = await client.get(self._entry(key))
        return value.decode() if value is not None else None

    async def _set(
        self,
        client: aioredis.Redis,
        key: str,
        value: str,
        *,
        model: str,
        scope: str,
        ttl: float,
    ) -> None:
        now_ms = int(time.time() * 1000)
        ttl_ms = int(ttl * 1000) if ttl > 0 else 0
        score = now_ms + ttl_ms if ttl_ms else float("inf")
        indexes = (self._all(), self._by_model(model), self._by_scope(scope))
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(self._entry(key), value, px=ttl_ms or None)
            for index in indexes:
                pipe.zadd(index, {key: score})
                pipe.zremrangebyscore(index, "-inf", now_ms)
                if ttl_ms:
                    # Every member expires within ttl of the last write.
                    pipe.pexpire(index, ttl_ms)
            pipe.zcard(self._all())
            *_, size = await pipe.execute()
        if size > self.max_entries:
            popped = await client.zpopmin(self._all(), size - self.max_entries)
            if popped:
                await client.unlink(*(self._entry(m.decode()) for m, _ in popped))

    async def _delete(self, client: aioredis.Redis, key: str) -> bool:
        async with client.pipeline(transaction=False) as pipe:
            pipe.unlink(self._entry(key))
            pipe.zrem(self._all(), key)
            removed, _ = await pipe.execute()
        return removed > 0

    async def _clear(
        self,
        client: aioredis.Redis,
        *,
        model: str | None = None,
        scope: str | None = None,
    ) -> int:
        if model is None and scope is None:
            return await self._clear_namespace(client)
        sets = []
        if model is not None:
            sets.append(self._by_model(model))
        if scope is not None:
            sets.append(self._by_scope(scope))
        members = [set(await client.zrange(name, 0, -1)) for name in sets]
        keys = [m.decode() for m in set.intersection(*members)]
        removed = 0
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            async with client.pipeline(transaction=False) as pipe:
                pipe.unlink(*(self._entry(k) for k in batch))
                pipe.zrem(self._all(), *batch)
                for name in sets:
                    pipe.zrem(name, *batch)
                result = await pipe.execute()
            removed += result[0]
        return removed

    async def _clear_namespace(self, client: aioredis.Redis) -> int:
        """Everything under the namespace, orphans included (SCAN, never KEYS)."""
        removed = 0
        entries = f"{self.namespace}:e:"
        batch: list[bytes] = []
        async for name in client.scan_iter(match=f"{self.namespace}:*", count=BATCH):
            batch.append(name)
            if len(batch) >= BATCH:
                removed += await self._unlink_counting(client, batch, entries)
                batch = []
        if batch:
            removed += await self._unlink_counting(client, batch, entries)
        return removed

    @staticmethod
    async def _unlink_counting(
        client: aioredis.Redis, names: list[bytes], entries: str
    ) -> int:
        await client.unlink(*names)
        return sum(1 for n in names if n.decode().startswith(entries))


def _redis_options(url: str) -> dict:
    options: dict = {"socket_connect_timeout": 2, "socket_timeout": 5}
    if url.startswith("rediss://"):
        options["ssl_cert_reqs"] = settings.REDIS_SSL_CERT_REQS
    return options


def _run_sync(command, *args, **kwargs):
    """Run one command from sync code on a short-lived client and loop of its own
    (in a helper thread when this thread already runs a loop)."""
    url = settings.REDIS_URL

    async def run():
        client = aioredis.Redis.from_url(url, **_redis_options(url))
        try:
            return await command(client, *args, **kwargs)
        finally:
            await client.aclose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(run())
        except BaseException as exc:  # re-raised in the calling thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="llm-cache-sync")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
