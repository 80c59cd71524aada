"""Cache keys: a stable hash of everything that decides a reply's text.

A key covers the model, every generation parameter that changes output, the prompt
version and the exact (trimmed) messages sent, plus a scope. It is the sha256 of a
canonical JSON document, so it is the same in every process, on every machine and
after restarts (no `hash()`, no dict order, no float formatting surprises).

The system prompt carries a random canary each turn; keys are computed on the
messages with that canary replaced by a fixed placeholder (`strip_canary`), or every
turn would miss.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

# Part of every key: bump it when the canonical document below changes shape.
KEY_VERSION = 1
SHARED_SCOPE = "shared"
CANARY_PLACEHOLDER = "<canary>"

# Model attributes that do not change the text of a reply (transport, streaming,
# naming): left out of the key so that, say, a timeout change keeps the cache.
_NOT_OUTPUT = frozenset(
    {
        "model",
        "model_name",
        "stream",
        "streaming",
        "stream_usage",
        "stream_options",
        "timeout",
        "request_timeout",
        "max_retries",
        "api_key",
        "openai_api_key",
        "base_url",
        "openai_api_base",
        "default_headers",
        "http_client",
        "http_async_client",
    }
)
_ROLES = {"human": "user", "ai": "assistant"}


def cache_scope(user) -> str:
    """Per user ("user:<id>") unless CHAT_CACHE_SCOPE is "shared" (see docs/cache.md
    for when a shared scope is safe)."""
    if settings.CHAT_CACHE_SCOPE == SHARED_SCOPE:
        return SHARED_SCOPE
    return f"user:{user.pk}"


def user_scope(user_id: int | str) -> str:
    """The scope of one user's entries, for invalidation by user."""
    return f"user:{user_id}"


def generation_params(model: BaseChatModel, **call_kwargs: Any) -> dict[str, Any]:
    """What the chat model will send that changes output (temperature, top_p,
    max_tokens, stop, seed, penalties, model_kwargs...), plus its provider type."""
    params = dict(model._identifying_params)
    params.update(call_kwargs)
    out = {k: v for k, v in params.items() if k not in _NOT_OUTPUT}
    out["provider"] = model._llm_type
    return out


def strip_canary(messages: Iterable[BaseMessage], canary: str) -> list[BaseMessage]:
    """The messages with this turn's canary replaced by a fixed placeholder."""
    if not canary:
        return list(messages)
    out = []
    for message in messages:
        content = message.content
        if isinstance(content, str) and canary in content:
            message = message.model_copy(
                update={"content": content.replace(canary, CANARY_PLACEHOLDER)}
            )
        out.append(message)
    return out


def cache_key(
    *,
    model: str,
    params: Mapping[str, Any],
    prompt_version: str,
    messages: Iterable[BaseMessage | Mapping[str, Any]],
    scope: str,
) -> str:
    """The cache key (64 hex chars) of one request; messages must be canary-free."""
    document = {
        "v": KEY_VERSION,
        "model": model,
        "params": _canonical(dict(params)),
        "prompt_version": str(prompt_version),
        "messages": [_message(m) for m in messages],
        "scope": scope,
    }
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _message(message: BaseMessage | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(message, BaseMessage):
        role = _ROLES.get(message.type, message.type)
        return {"role": role, "content": _canonical(message.content)}
    return {"role": message["role"], "content": _canonical(message["content"])}


def _canonical(value: Any) -> Any:
    """JSON-ready and normalised: None values dropped from mappings, tuples as lists,
    integral floats as ints (temperature 1 and 1.0 are the same request)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    # Anything else (an enum, a pydantic model) by its repr: stable for a given
    # version of the library that made it.
    return repr(value)
