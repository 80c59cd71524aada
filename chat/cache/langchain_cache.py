"""The response cache's store as a LangChain `BaseCache`, for non-streaming calls
(titles, summaries) through `set_llm_cache(LangChainCache())`.

LangChain never consults its cache while streaming (`astream`, `astream_events`), so
the turn uses `chat.cache.replies` instead; this adapter shares the same store, keys,
scope rule, TTL and counters. The scope comes from the constructor, else from
`cache_scope_for(user)` around the call, else it is "shared" when CHAT_CACHE_SCOPE
says so; with none of these the call is not cached (a per-user cache that does not
know the user must not share).
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from chat.cache import stats
from chat.cache.backends import get_backend
from chat.cache.keys import SHARED_SCOPE, cache_key, cache_scope
from chat.cache.replies import CacheSlot, cache_ttl, temperature_allowed

log = logging.getLogger("chat.cache")

_scope: ContextVar[str | None] = ContextVar("llm_cache_scope", default=None)
_lookups: ContextVar[ScopeLookups | None] = ContextVar("llm_lookups", default=None)
_MODEL_IN_PARAMS = re.compile(r"\('model(?:_name)?', '([^']*)'\)")


@dataclass
class ScopeLookups:
    """What the lookups inside a `cache_scope_for` block found: a caller that keeps
    a ledger must know a call was served from the cache (it costs nothing)."""

    hits: int = 0


@contextmanager
def cache_scope_for(user) -> Iterator[ScopeLookups]:
    """Cache the LangChain calls made inside this block in `user`'s scope."""
    lookups = ScopeLookups()
    token = _scope.set(cache_scope(user))
    counted = _lookups.set(lookups)
    try:
        yield lookups
    finally:
        _lookups.reset(counted)
        _scope.reset(token)


class LangChainCache(BaseCache):
    """LangChain's cache interface over the configured response-cache store."""

    def __init__(self, *, scope: str | None = None) -> None:
        self.scope = scope

    def _slot(self, prompt: str, llm_string: str) -> CacheSlot | None:
        scope = self.scope or _scope.get()
        if scope is None and settings.CHAT_CACHE_SCOPE == "shared":
            scope = SHARED_SCOPE
        model, params = _describe(llm_string)
        if scope is None or get_backend() is None or not temperature_allowed(params):
            stats.count("bypassed")
            return None
        key = cache_key(
            model=model,
            params={"llm_string": llm_string},
            prompt_version=settings.LLM_PROMPT_VERSION,
            messages=[{"role": "prompt", "content": prompt}],
            scope=scope,
        )
        return CacheSlot(key=key, model=model, scope=scope)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        slot = self._slot(prompt, llm_string)
        if slot is None:
            return None
        try:
            value = get_backend().get(slot.key)
        except Exception as exc:
            stats.store_failed("get", exc)
            value = None
        return _counted(value)

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        slot = self._slot(prompt, llm_string)
        if slot is None:
            return None
        value = await stats.guarded("get", get_backend().aget(slot.key), None)
        return _counted(value)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        slot = self._slot(prompt, llm_string)
        if slot is None:
            return
        try:
            get_backend().set(
                slot.key,
                _dump(return_val),
                model=slot.model,
                scope=slot.scope,
                ttl=cache_ttl(),
            )
        except Exception as exc:
            stats.store_failed("set", exc)
            return
        stats.count("stores")

    async def aupdate(
        self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE
    ) -> None:
        slot = self._slot(prompt, llm_string)
        if slot is None:
            return
        call = get_backend().aset(
            slot.key,
            _dump(return_val),
            model=slot.model,
            scope=slot.scope,
            ttl=cache_ttl(),
        )
        if await stats.guarded_write("set", call):
            stats.count("stores")

    def clear(self, **kwargs: Any) -> None:
        """Clear the store (or only `model=` / `scope=` entries); errors propagate."""
        backend = get_backend()
        if backend is not None:
            backend.clear(model=kwargs.get("model"), scope=kwargs.get("scope"))

    async def aclear(self, **kwargs: Any) -> None:
        backend = get_backend()
        if backend is not None:
            await backend.aclear(model=kwargs.get("model"), scope=kwargs.get("scope"))


def _counted(value: str | None) -> RETURN_VAL_TYPE | None:
    generations = _load(value) if value is not None else None
    stats.count("hits" if generations is not None else "misses")
    if generations is not None and (lookups := _lookups.get()) is not None:
        lookups.hits += 1
    return generations


def _describe(llm_string: str) -> tuple[str, dict[str, Any]]:
    """The model name and constructor arguments inside LangChain's `llm_string`
    (a JSON constructor then "---" for serialisable models, a repr otherwise)."""
    head = llm_string.split("---", 1)[0]
    try:
        kwargs = json.loads(head).get("kwargs") or {}
    except (ValueError, AttributeError):
        kwargs = {}
    if not kwargs:
        try:
            kwargs = dict(ast.literal_eval(llm_string))
        except (ValueError, SyntaxError, TypeError):
            kwargs = {}
    model = kwargs.get("model_name") or kwargs.get("model")
    if not isinstance(model, str):
        found = _MODEL_IN_PARAMS.search(llm_string)
        model = found.group(1) if found else "unknown"
    return model, kwargs


def _dump(generations: Sequence[Generation]) -> str:
    items = []
    for generation in generations:
        item: dict[str, Any] = {"info": generation.generation_info}
        if isinstance(generation, ChatGeneration):
            item["message"] = message_to_dict(generation.message)
        else:
            item["text"] = generation.text
        items.append(item)
    return json.dumps({"kind": "generations", "items": items}, ensure_ascii=False)


def _load(value: str) -> list[Generation] | None:
    try:
        data = json.loads(value)
        if data.get("kind") != "generations":
            return None
        out: list[Generation] = []
        for item in data["items"]:
            if "message" in item:
                (message,) = messages_from_dict([item["message"]])
                out.append(
                    ChatGeneration(message=message, generation_info=item["info"])
                )
            else:
                out.append(Generation(text=item["text"], generation_info=item["info"]))
        return out
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("unreadable LangChain cache entry ignored")
        return None
