"""What a reply is billed when the provider sent no usage of its own: a stopped or
cut stream, a crash, a database outage, a server that never reports usage.

Exact wherever a tokenizer can be had offline: tiktoken's encodings for OpenAI
models (chat/llm/tokens.py), the model server's own tokenizer for local models
(llama.cpp's `POST /tokenize`, llama-cpp-python's `POST /extras/tokenize`). The
high-side estimate is the last resort, marked `estimated`. Output is always capped
at the request's max_tokens: a provider never generates more, and a bill above the
cap would also overrun the budget hold (input estimate plus reply cap).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Literal

import httpx
from django.conf import settings
from langchain_core.messages import BaseMessage

from chat.llm import tokens
from chat.llm.registry import UnknownModel, get_spec
from chat.llm.streaming import Usage

log = logging.getLogger("chat.llm.usage_count")

# A bill must not wait long on a tokenizer: past this, the estimate is used.
TOKENIZE_TIMEOUT = 2.0
ServerKind = Literal["llama.cpp", "llama-cpp-python"]
# What each model server (by root URL) offers, learnt once per process; None: no
# tokenize endpoint, so its models are estimated without asking again.
_servers: dict[str, ServerKind | None] = {}


def reply_cap(model: str) -> int:
    """The request's max_tokens for this model (as turns.py asks for)."""
    try:
        return min(settings.LLM_MAX_TOKENS, get_spec(model).max_output_tokens)
    except UnknownModel:
        return settings.LLM_MAX_TOKENS


async def billed_usage(
    *,
    model: str,
    endpoint: str,
    messages: Sequence[BaseMessage] | None,
    text: str,
    provider: Usage | None = None,
    failed_before_text: bool = False,
) -> Usage:
    """The provider's usage when it sent one, else our own count of the prompt and
    of the text generated. A call that failed before any text is not billed."""
    if provider is not None:
        return provider
    if failed_before_text and not text:
        return Usage(estimated=True)
    if tokens.counting_method(model) == "tiktoken":
        usage = Usage(
            input_tokens=tokens.count_messages(messages, model) if messages else 0,
            output_tokens=tokens.count_text(text, model),
        )
    else:
        usage = await _server_count(model, endpoint, messages, text) or Usage(
            input_tokens=tokens.count_messages(messages, model) if messages else 0,
            output_tokens=tokens.count_text(text, model),
            estimated=True,
        )
    usage.output_tokens = min(usage.output_tokens, reply_cap(model))
    return usage


async def _server_count(
    model: str, endpoint: str, messages: Sequence[BaseMessage] | None, text: str
) -> Usage | None:
    """Exact counts from the model server's tokenizer, or None if it has none."""
    root = _root(endpoint)
    if root is None or _servers.get(root, "") is None:
        return None
    # The prompt's framing rules are tokens.py's; only the texts are asked for.
    pieces: set[str] = {text}
    tokens.count_messages(messages or (), model, count=lambda t: pieces.add(t) or 0)
    pieces.discard("")
    try:
        async with httpx.AsyncClient(timeout=TOKENIZE_TIMEOUT) as client:
            kind = _servers.get(root) or await _discover(client, root)
            if kind is None:
                return None
            order = sorted(pieces)
            counts = await asyncio.gather(
                *(_tokenize(client, root, kind, piece) for piece in order)
            )
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.info("tokenizer at %s unusable (%s); estimating", root, type(exc).__name__)
        return None
    found = dict(zip(order, counts, strict=True))
    found[""] = 0
    return Usage(
        input_tokens=tokens.count_messages(messages or (), model, count=found.get)
        if messages
        else 0,
        output_tokens=found[text],
    )


def _root(endpoint: str) -> str | None:
    """The server's root URL from an OpenAI-style base URL (…/v1)."""
    if not endpoint.startswith(("http://", "https://")):
        return None  # the demo model, or the cache
    root = endpoint.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _headers() -> dict[str, str]:
    key = settings.OPENAI_API_KEY
    return {"Authorization": f"Bearer {key}"} if key else {}


async def _tokenize(
    client: httpx.AsyncClient, root: str, kind: ServerKind, text: str
) -> int:
    """Tokens in `text` by the server's own tokenizer, without BOS/EOS."""
    if kind == "llama.cpp":
        response = await client.post(
            f"{root}/tokenize",
            json={"content": text, "add_special": False},
            headers=_headers(),
        )
        response.raise_for_status()
        return len(response.json()["tokens"])
    # llama-cpp-python always adds the model's BOS token when the model has one:
    # counting the empty string tells how many to take off.
    response = await client.post(
        f"{root}/extras/tokenize/count", json={"input": text}, headers=_headers()
    )
    response.raise_for_status()
    return int(response.json()["count"]) - await _bos(client, root)


_bos_tokens: dict[str, int] = {}


async def _bos(client: httpx.AsyncClient, root: str) -> int:
    if root not in _bos_tokens:
        response = await client.post(
            f"{root}/extras/tokenize/count", json={"input": ""}, headers=_headers()
        )
        response.raise_for_status()
        _bos_tokens[root] = int(response.json()["count"])
    return _bos_tokens[root]


async def _discover(client: httpx.AsyncClient, root: str) -> ServerKind | None:
    """Which tokenize endpoint the server has; remembered for the process."""
    probes: tuple[tuple[ServerKind, str, dict], ...] = (
        ("llama.cpp", "/tokenize", {"content": "a", "add_special": False}),
        ("llama-cpp-python", "/extras/tokenize/count", {"input": "a"}),
    )
    kind: ServerKind | None = None
    for name, path, body in probes:
        try:
            response = await client.post(f"{root}{path}", json=body, headers=_headers())
        except httpx.TransportError:
            return None  # down now: ask again next time
        if response.status_code == 200:
            kind = name
            break
    _servers[root] = kind
    return kind
