"""The one seam that builds chat models, so tests and the demo swap it in one place.

Catalogue entries of other providers are built through LangChain's provider-agnostic
`init_chat_model`, so an operator adds e.g. Anthropic entries by installing that
integration package; OpenAI-compatible entries, the environment's own model and
LLM_FALLBACKS are all one class, BoundedChatOpenAI.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import openai
from django.conf import settings
from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from chat.errors import ProviderUnavailable

# ChatOpenAI imported at import: not inside the event loop.
from chat.llm.bounded_stream import BoundedChatOpenAI
from chat.llm.registry import ModelSpec
from chat.llm.transport import provider_http_client

if TYPE_CHECKING:
    from chat.catalogue.entries import Entry
    from chat.catalogue.store import Catalogue


def model_name() -> str:
    """The model name replies are recorded under."""
    return "demo" if settings.LLM_BACKEND == "demo" else settings.LLM_MODEL


def is_demo() -> bool:
    return settings.LLM_BACKEND == "demo"


def endpoint() -> str:
    """Where calls go, for records and health checks (never includes a secret)."""
    if is_demo():
        return "demo"
    return settings.OPENAI_BASE_URL or "https://api.openai.com/v1"


@dataclass(frozen=True)
class Candidate:
    """A model the turn may stream from: the primary, then each fallback."""

    name: str
    endpoint: str
    model: BaseChatModel
    # The catalogue entry it stands for, and its limits and prices ("" / None for
    # a fallback named in LLM_FALLBACKS: priced from the registry by name).
    catalogue_key: str = ""
    spec: ModelSpec | None = None

    @property
    def key(self) -> str:
        """What the circuit breaker tracks: one model at one endpoint."""
        return f"{self.name}@{self.endpoint}"

    def __str__(self) -> str:
        return self.key


def candidates() -> list[Candidate]:
    """The primary model, then LLM_FALLBACKS in order ("model" on the primary's
    endpoint, or "model@base_url")."""
    out = [Candidate(model_name(), endpoint(), get_chat_model())]
    if is_demo():
        return out
    for entry in settings.LLM_FALLBACKS:
        name, _, base_url = entry.partition("@")
        base_url = base_url or settings.OPENAI_BASE_URL
        out.append(
            Candidate(
                name,
                base_url or "https://api.openai.com/v1",
                get_chat_model(model=name, base_url=base_url),
            )
        )
    return out


def entry_candidates(
    entry: Entry,
    catalogue: Catalogue,
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> list[Candidate]:
    """A catalogue entry, then its fallbacks in order (enabled ones), each built
    with the conversation's generation settings where it set them."""
    if entry.from_environment:
        if temperature is None and max_tokens is None:
            primary = get_chat_model()
        else:
            primary = get_chat_model(temperature=temperature, max_tokens=max_tokens)
        out = [Candidate(entry.model, entry.endpoint, primary, entry.key, entry.spec)]
        return out + candidates()[1:]
    out = []
    for candidate in (entry, *(catalogue.get(key) for key in entry.fallbacks)):
        if candidate is None or not candidate.enabled:
            continue
        try:
            model = build_entry_model(
                candidate, temperature=temperature, max_tokens=max_tokens
            )
        except ProviderUnavailable:
            if candidate is entry:
                raise
            continue  # a fallback that cannot be built is skipped
        out.append(
            Candidate(
                candidate.model,
                candidate.endpoint,
                model,
                candidate.key,
                candidate.spec,
            )
        )
    return out


def build_entry_model(
    entry: Entry, *, temperature: float | None = None, max_tokens: int | None = None
) -> BaseChatModel:
    """The chat model of a catalogue entry (not the environment's)."""
    api_key = entry.api_key()
    if api_key is None:
        raise ProviderUnavailable(detail=f"catalogue entry {entry.key}: no API key")
    return _build_entry(
        entry.provider,
        entry.model,
        entry.base_url,
        api_key,
        entry.temperature if temperature is None else temperature,
        entry.top_p,
        min(max_tokens or entry.reply_cap, entry.spec.max_output_tokens),
        entry.streaming_usage,
        settings.LLM_TIMEOUT,
        settings.LLM_CONNECT_TIMEOUT,
        settings.CHAT_DEMO_DELAY_MS,
        settings.LLM_HTTP_CLIENT,
    )


@lru_cache(maxsize=32)
def _build_entry(
    provider: str,
    model: str,
    base_url: str,
    api_key: str,
    temperature: float,
    top_p: float,
    max_tokens: int,
    stream_usage: bool,
    timeout: float,
    connect_timeout: float,
    demo_delay_ms: float,
    http_client: str,
) -> BaseChatModel:
    if provider == "demo":
        from chat.llm.demo import DemoChatModel

        return DemoChatModel(delay_ms=demo_delay_ms)
    options: dict = {
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        # Retries live in one layer of ours (chat/llm/failover.py).
        "max_retries": 0,
    }
    if provider == "openai":
        # The same class and options as the environment's model (_build): chunks
        # held bounded, gaps timed by our watchdog, aiohttp under the SDK unless
        # LLM_HTTP_CLIENT=httpx; so a catalogue entry streams at the same cost.
        return BoundedChatOpenAI(
            model=model,
            base_url=base_url or None,
            api_key=api_key or "not-needed",
            stream_usage=stream_usage,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            extra_body={"max_tokens": max_tokens} if base_url else None,
            stream_chunk_timeout=None,
            http_async_client=provider_http_client()
            if http_client == "aiohttp"
            else None,
            **options,
        )
    if base_url:
        options["base_url"] = base_url
    if api_key:
        options["api_key"] = api_key
    options["timeout"] = timeout
    try:
        return init_chat_model(model, model_provider=provider, **options)
    except ImportError as exc:
        raise ProviderUnavailable(
            detail=f"provider {provider!r}: install its LangChain package ({exc})"
        ) from exc


def get_chat_model(
    *,
    model: str | None = None,
    base_url: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> BaseChatModel:
    """The configured chat model (or another model, endpoint or generation setting
    with the same parameters); cached per configuration, since clients hold
    connection pools."""
    return _build(
        settings.LLM_BACKEND,
        model or settings.LLM_MODEL,
        settings.OPENAI_BASE_URL if base_url is None else base_url,
        settings.LLM_TEMPERATURE if temperature is None else temperature,
        settings.LLM_TOP_P,
        max_tokens or settings.LLM_MAX_TOKENS,
        settings.LLM_TIMEOUT,
        settings.LLM_CONNECT_TIMEOUT,
        settings.CHAT_DEMO_DELAY_MS,
        settings.LLM_HTTP_CLIENT,
    )


@lru_cache(maxsize=8)
def _build(
    backend: str,
    model: str,
    base_url: str,
    temperature: float,
    top_p: float,
    max_tokens: int,
    timeout: float,
    connect_timeout: float,
    demo_delay_ms: float,
    http_client: str,
) -> BaseChatModel:
    if backend == "demo":
        from chat.llm.demo import DemoChatModel

        return DemoChatModel(delay_ms=demo_delay_ms)
    return BoundedChatOpenAI(
        model=model,
        api_key=settings.OPENAI_API_KEY or "not-needed",
        base_url=base_url or None,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        # langchain-openai sends max_completion_tokens, which llama.cpp and other
        # compatible servers ignore; max_tokens is what they read.
        extra_body={"max_tokens": max_tokens} if base_url else None,
        # Usage on streams is off by default whenever a base URL is set.
        stream_usage=True,
        timeout=openai.Timeout(timeout, connect=connect_timeout),
        # Retries live in one layer of ours (chat/llm/failover.py): the SDK's would
        # wait out any Retry-After up to two minutes and hide 429s from the breaker.
        max_retries=0,
        # Gaps between chunks are timed once, by our own watchdog (failover.py,
        # LLM_CHUNK_GAP_TIMEOUT); LangChain's would wrap every chunk in
        # asyncio.wait_for, a task per token.
        stream_chunk_timeout=None,
        # aiohttp under the SDK (chat/llm/transport.py); None: the SDK's httpx.
        http_async_client=provider_http_client() if http_client == "aiohttp" else None,
    )
