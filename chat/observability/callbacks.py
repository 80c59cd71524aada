"""Measure each model call through LangChain's callbacks: when it started, its first
token, how it ended, its usage and its run id.

The turn passes a `CallMeter` in `config["callbacks"]`; at the end of the turn every
call it saw becomes a ModelCall row (one write for all of them): the one that
answered with the reply's usage and cost, and each failed attempt before it (a
retry, a fallback) with its endpoint, error code, duration and run id. Nothing here
touches the database, the network or a lock: a per-token callback is one dict lookup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.outputs import LLMResult

# One reading of LangChain's usage_metadata for the stream and for this meter.
from chat.llm.streaming import Usage, _usage_from


@dataclass
class CallMeasure:
    """What one model call did, in the ledger's terms (times are monotonic)."""

    run_id: str
    model: str
    started: float
    # The base URL the call went to (the failover layer puts it in the metadata).
    endpoint: str = ""
    first_token_at: float | None = None
    ended: float | None = None
    # None until the provider reports usage (many OpenAI-compatible servers never do).
    usage: Usage | None = None
    # The exception's class name when the call failed; "" otherwise.
    error: str = ""
    cancelled: bool = False

    @property
    def ttft_ms(self) -> int | None:
        if self.first_token_at is None:
            return None
        return int((self.first_token_at - self.started) * 1000)

    @property
    def duration_ms(self) -> int | None:
        if self.ended is None:
            return None
        return int((self.ended - self.started) * 1000)

    @property
    def outcome(self) -> str:
        """running, complete, cancelled or failed."""
        if self.ended is None:
            return "running"
        if self.cancelled:
            return "cancelled"
        return "failed" if self.error else "complete"


class CallMeter(AsyncCallbackHandler):
    """Records every model call of one turn; `last` is the call the turn stores."""

    # Awaited in order on the model's own task: no gather, no thread hop per token.
    run_inline = True
    ignore_chain = True
    ignore_agent = True
    ignore_retriever = True
    ignore_custom_event = True

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.calls: list[CallMeasure] = []
        self._open: dict[UUID, CallMeasure] = {}
        self._clock = clock

    @property
    def last(self) -> CallMeasure | None:
        """The most recent call (with fallbacks, the one that answered or failed)."""
        return self.calls[-1] if self.calls else None

    def _begin(self, run_id: UUID, metadata: dict | None, kwargs: dict) -> None:
        metadata = metadata or {}
        params = kwargs.get("invocation_params") or {}
        model = (
            metadata.get("ls_model_name")
            or params.get("model")
            or params.get("model_name")
            or ""
        )
        call = CallMeasure(
            run_id=str(run_id),
            model=str(model),
            started=self._clock(),
            endpoint=str(metadata.get("endpoint") or ""),
        )
        self._open[run_id] = call
        self.calls.append(call)

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id, metadata, kwargs)

    async def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id, metadata, kwargs)

    async def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs) -> None:
        call = self._open.get(run_id)
        # Usage-only and closing chunks carry no text: they are not the first token.
        if call is not None and call.first_token_at is None and token:
            call.first_token_at = self._clock()

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs) -> None:
        call = self._open.pop(run_id, None)
        if call is None:
            return
        call.ended = self._clock()
        call.usage = usage_of(response) or call.usage

    async def on_llm_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        call = self._open.pop(run_id, None)
        if call is None:
            return
        call.ended = self._clock()
        # A stop cancels the task; a consumer that stops iterating closes the stream.
        if isinstance(error, asyncio.CancelledError | GeneratorExit):
            call.cancelled = True
        else:
            call.error = type(error).__name__
        response = kwargs.get("response")
        if isinstance(response, LLMResult):
            call.usage = usage_of(response) or call.usage


def usage_of(response: LLMResult) -> Usage | None:
    """The provider's usage in a finished (or partly streamed) call, if it sent one."""
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            usage = _usage_from(getattr(message, "usage_metadata", None))
            if usage is not None:
                return usage
    token_usage = (response.llm_output or {}).get("token_usage") or {}
    if token_usage:
        return Usage(
            input_tokens=token_usage.get("prompt_tokens", 0) or 0,
            output_tokens=token_usage.get("completion_tokens", 0) or 0,
        )
    return None
