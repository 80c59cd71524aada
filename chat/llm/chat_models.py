"""The one seam that builds chat models, so tests and the demo swap it in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import openai
from django.conf import settings
from langchain_core.language_models import BaseChatModel

# ChatOpenAI imported at import: not inside the event loop.
from chat.llm.bounded_stream import BoundedChatOpenAI
from chat.llm.transport import provider_http_client


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


def get_chat_model(
    *, model: str | None = None, base_url: str | None = None
) -> BaseChatModel:
    """The configured chat model (or another model or endpoint with the same
    parameters); cached per configuration, since clients hold connection pools."""
    return _build(
        settings.LLM_BACKEND,
        model or settings.LLM_MODEL,
        settings.OPENAI_BASE_URL if base_url is None else base_url,
        settings.LLM_TEMPERATURE,
        settings.LLM_TOP_P,
        settings.LLM_MAX_TOKENS,
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
