"""The response cache on the turn's path: where a reply is cached (`cache_slot`),
look-up, the storing policy, and replay of a hit as a stream of token-sized chunks.

Only complete, unfiltered replies are stored; a store failure is a miss (counted,
logged once per outage) and never reaches the user.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from langchain_core.messages import BaseMessage

from chat.cache.backends import get_backend
from chat.cache.keys import cache_key, cache_scope, strip_canary
from chat.cache.stats import count, guarded, guarded_write
from chat.llm.streaming import StreamStats, Usage
from chat.models import Message

DEFAULT_TTL = 86_400
# Providers apply their own default (1.0 at OpenAI) when no temperature is sent.
DEFAULT_TEMPERATURE = 1.0
# Roughly a token: optional leading whitespace and up to six visible characters.
_PIECE = re.compile(r"\s*\S{1,6}|\s+")
# Hand the loop back every so many chunks, so followers and a stop get a turn.
_YIELD_EVERY = 32


@dataclass(frozen=True)
class CacheSlot:
    """Where one request's reply is, or would be, cached."""

    key: str
    model: str
    scope: str


@dataclass(frozen=True)
class CachedReply:
    """A stored reply with the usage of the call that made it."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    usage_estimated: bool = False
    created: float = 0.0

    @property
    def usage(self) -> Usage:
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cached_input_tokens=self.cached_input_tokens,
            estimated=self.usage_estimated,
        )

    def dumps(self) -> str:
        return json.dumps({"kind": "reply", **asdict(self)}, ensure_ascii=False)

    @classmethod
    def loads(cls, value: str) -> CachedReply | None:
        """The reply in a stored value; None for another kind or an old shape."""
        try:
            data = json.loads(value)
            if data.pop("kind", None) != "reply":
                return None
            return cls(**data)
        except (ValueError, TypeError):
            return None


def cache_ttl() -> float:
    return float(settings.CHAT_CACHE_TTL)


def temperature_allowed(params: Mapping[str, Any]) -> bool:
    """False above CHAT_CACHE_MAX_TEMPERATURE: such replies are meant to vary."""
    limit = settings.CHAT_CACHE_MAX_TEMPERATURE
    if limit is None:
        return True
    temperature = params.get("temperature")
    if temperature is None:
        temperature = DEFAULT_TEMPERATURE
    return float(temperature) <= float(limit)


def cache_slot(
    *,
    user,
    model: str,
    params: Mapping[str, Any],
    messages: Iterable[BaseMessage],
    canary: str = "",
) -> CacheSlot | None:
    """The slot of this request, or None when it must not use the cache (cache off,
    temperature above the limit)."""
    if get_backend() is None or not temperature_allowed(params):
        count("bypassed")
        return None
    scope = cache_scope(user)
    key = cache_key(
        model=model,
        params=params,
        prompt_version=settings.LLM_PROMPT_VERSION,
        messages=strip_canary(messages, canary),
        scope=scope,
    )
    return CacheSlot(key=key, model=model, scope=scope)


async def reply_lookup(slot: CacheSlot) -> CachedReply | None:
    """The cached reply for this slot; None on a miss or when the store fails."""
    backend = get_backend()
    if backend is None:
        return None
    value = await guarded("get", backend.aget(slot.key), None)
    reply = CachedReply.loads(value) if value is not None else None
    count("hits" if reply is not None else "misses")
    return reply


def reply_cacheable(*, status: str, filtered: bool, text: str) -> bool:
    """Only complete replies the output filter left untouched, with text."""
    return status == Message.Status.COMPLETE and not filtered and bool(text)


async def reply_store(
    slot: CacheSlot, *, text: str, usage: Usage, status: str, filtered: bool
) -> bool:
    """Store a finished reply if the policy allows; True when stored."""
    backend = get_backend()
    if backend is None:
        return False
    if not reply_cacheable(status=status, filtered=filtered, text=text):
        count("skipped")
        return False
    reply = CachedReply(
        text=text,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        usage_estimated=usage.estimated,
        created=time.time(),
    )
    call = backend.aset(
        slot.key, reply.dumps(), model=slot.model, scope=slot.scope, ttl=cache_ttl()
    )
    stored = await guarded_write("set", call)
    if stored:
        count("stores")
    return stored


def replay_pieces(text: str) -> list[str]:
    """The text cut into token-sized pieces (joined, they are the text)."""
    return _PIECE.findall(text)


async def replay(text: str) -> AsyncIterator[str]:
    """Yield a cached reply in token-sized pieces, without delays, so it streams
    through the same filter, hub and frames as a model's reply."""
    for index, piece in enumerate(replay_pieces(text), 1):
        yield piece
        if index % _YIELD_EVERY == 0:
            await asyncio.sleep(0)


async def replay_reply(reply: CachedReply, stats: StreamStats) -> AsyncIterator[str]:
    """`stream_text`'s contract for a hit: the pieces, with the first-piece time and
    the original usage recorded in `stats`, so the turn swaps one for the other."""
    stats.run_id = ""
    async for piece in replay(reply.text):
        if stats.first_token_at is None:
            stats.first_token_at = time.monotonic()
        yield piece
    stats.usage = reply.usage


async def reply_forget(cache_key: str) -> None:
    """Drop the entry a regenerated reply came from or went to: the user has judged
    it wrong, so the next identical question must not get it back. Never raises."""
    backend = get_backend()
    if cache_key and backend is not None:
        await guarded_write("delete", backend.adelete(cache_key))
