"""The one seam that builds chat models, so tests and the demo swap it in one place."""

from __future__ import annotations

from functools import lru_cache

import openai
from django.conf import settings
from langchain_core.language_models import BaseChatModel


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


def get_chat_model() -> BaseChatModel:
    """The configured chat model; cached per configuration (clients hold pools)."""
    return _build(
        settings.LLM_BACKEND,
        settings.LLM_MODEL,
        settings.OPENAI_BASE_URL,
        settings.LLM_TEMPERATURE,
        settings.LLM_TOP_P,
        settings.LLM_MAX_TOKENS,
        settings.LLM_TIMEOUT,
        settings.LLM_CONNECT_TIMEOUT,
        settings.LLM_MAX_RETRIES,
        settings.CHAT_DEMO_DELAY_MS,
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
    max_retries: int,
    demo_delay_ms: float,
) -> BaseChatModel:
    if backend == "demo":
        from chat.llm.demo import DemoChatModel

        return DemoChatModel(delay_ms=demo_delay_ms)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        api_key=settings.OPENAI_API_KEY or "not-needed",
        base_url=base_url or None,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        # Usage on streams is off by default whenever a base URL is set.
        stream_usage=True,
        timeout=openai.Timeout(timeout, connect=connect_timeout),
        # The openai SDK's retries are the one retry layer: backoff with jitter,
        # Retry-After honoured, only before the stream has started.
        max_retries=max_retries,
    )
