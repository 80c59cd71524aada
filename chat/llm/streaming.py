"""Stream one reply from a chat model through `astream_events(version="v2")`.

Yields text as it arrives and finishes with what the provider said about usage, so the
turn never deals with LangChain event shapes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from chat.errors import ChatError, ProviderTimeout, ProviderUnavailable


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    estimated: bool = False


@dataclass
class StreamStats:
    """Filled in while streaming; read by the turn when it finishes, however it ends."""

    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    usage: Usage | None = None
    run_id: str = ""
    # The candidate (primary or fallback) that was streaming last.
    model: str = ""
    endpoint: str = ""
    # The error code of each failed attempt, by LangChain run id (for its ledger row).
    call_errors: dict[str, str] = field(default_factory=dict)
    # Why the provider stopped ("stop", "length"...), when it said.
    finish_reason: str = ""
    # The catalogue entry of the candidate that was streaming last.
    catalogue_key: str = ""

    @property
    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return int((self.first_token_at - self.started) * 1000)

    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def _usage_from(metadata: dict | None) -> Usage | None:
    if not metadata:
        return None
    details = metadata.get("input_token_details") or {}
    return Usage(
        input_tokens=metadata.get("input_tokens", 0),
        output_tokens=metadata.get("output_tokens", 0),
        cached_input_tokens=details.get("cache_read", 0) or 0,
    )


async def stream_text(
    model: BaseChatModel,
    messages: list[BaseMessage],
    config: RunnableConfig,
    stats: StreamStats,
) -> AsyncIterator[str]:
    """Yield the reply's text pieces; record timings and usage in `stats`."""
    try:
        async for event in model.astream_events(messages, config=config, version="v2"):
            kind = event["event"]
            if kind == "on_chat_model_stream":
                chunk = event["data"]["chunk"]
                if chunk.usage_metadata:
                    stats.usage = _usage_from(chunk.usage_metadata)
                if reason := _finish_reason(chunk):
                    stats.finish_reason = reason
                text = chunk.text
                if text:
                    if stats.first_token_at is None:
                        stats.first_token_at = time.monotonic()
                    yield text
            elif kind == "on_chat_model_start":
                stats.run_id = str(event.get("run_id", ""))
            elif kind == "on_chat_model_end":
                output = event["data"].get("output")
                usage = _usage_from(getattr(output, "usage_metadata", None))
                if usage:
                    stats.usage = usage
                if reason := _finish_reason(output):
                    stats.finish_reason = reason
    except ChatError:
        raise
    except openai.APITimeoutError as exc:
        raise ProviderTimeout(detail=type(exc).__name__) from exc
    except openai.APIStatusError as exc:
        error = ProviderUnavailable(
            retry_after=_retry_after(exc.response), detail=f"HTTP {exc.status_code}"
        )
        # Worth retrying (or falling back): overload, rate limits, server errors.
        error.retryable = exc.status_code in (408, 409, 429) or exc.status_code >= 500
        error.status = exc.status_code
        raise error from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailable(detail=type(exc).__name__) from exc


def _finish_reason(message) -> str:
    """OpenAI's finish_reason, or another provider's stop reason, as one string."""
    metadata = getattr(message, "response_metadata", None) or {}
    return str(metadata.get("finish_reason") or metadata.get("stop_reason") or "")


def _retry_after(response) -> float | None:
    if response is None:
        return None
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
