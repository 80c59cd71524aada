"""A turn with tools: the bounded loop (chat.tools.loop) as the reply's source.

Its text goes through the turn's output filter like any reply, and so does what
the page is shown of each call (its arguments, its result: a model could leak its
instructions there too). Each step of a tool call is a frame in the reply's log
(`tool_start`, `tool_args`, `tool_result`, `tool_error`, numbered `n` from 1 so a
follower that rejoins skips what it has), and is kept as the reply's `tool_steps`
for the page after a reload. Each model call of the loop is a round with its own
usage and cost: one ledger row each.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import openai
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse
from langchain_core.messages import BaseMessage, SystemMessage

from chat.errors import ProviderTimeout, ProviderUnavailable, ToolResultFlagged
from chat.guards.output_filter import StreamFilter
from chat.llm.registry import ModelSpec, cost
from chat.llm.streaming import StreamStats, Usage
from chat.llm.tokens import count_messages, count_text
from chat.models import ToolArtefact
from chat.observability import records
from chat.tools.loop import (
    LoopEnded,
    ModelRound,
    TextDelta,
    ToolArguments,
    ToolFailed,
    ToolFinished,
    ToolStarted,
    run_tool_loop,
)
from chat.tools.registry import Tool, tools_for
from chat.tools.sandbox import Artefact
from chat.tools.untrusted import DATA_NOTE

__all__ = ["Round", "ToolTurn", "tool_reply", "tool_turn_for"]


@dataclass(frozen=True)
class Round:
    """One model call of the loop, as its ledger row stores it."""

    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    usage_estimated: bool
    cost: Decimal
    ttft_ms: int | None
    duration_ms: int
    run_id: str = ""


@dataclass
class ToolTurn:
    """The tools a turn may use and what its loop did with them."""

    tools: list[Tool]
    steps: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    # Tool frames sent so far (each frame's `n`).
    sent: int = 0
    # A model call that has streamed but not ended, and its text: a stop then
    # leaves a round to estimate (one that sent nothing is not billed).
    pending: list[str] = field(default_factory=list)
    in_call: bool = False
    ended: str = ""

    def step(self, call_id: str, name: str = "") -> dict[str, Any]:
        for step in self.steps:
            if step["call"] == call_id:
                return step
        step = {"call": call_id, "name": name, "arguments": "", "state": "running"}
        self.steps.append(step)
        return step

    def finish(self, spec: ModelSpec, model: str, prompt: list) -> Usage:
        """Close what a stop or failure left open: running steps become cancelled,
        a model call cut short is an estimated round. Returns the turn's usage,
        the sum of its rounds."""
        for step in self.steps:
            if step["state"] == "running":
                step.update(state="error", code="cancelled", error="Stopped.")
        if self.in_call:
            text = "".join(self.pending)
            usage = Usage(count_messages(prompt, model), count_text(text, model))
            self.rounds.append(
                Round(
                    usage.input_tokens,
                    0,
                    usage.output_tokens,
                    True,
                    _cost(spec, usage.input_tokens, 0, usage.output_tokens),
                    None,
                    0,
                )
            )
            self.in_call = False
        return Usage(
            input_tokens=sum(r.input_tokens for r in self.rounds),
            cached_input_tokens=sum(r.cached_input_tokens for r in self.rounds),
            output_tokens=sum(r.output_tokens for r in self.rounds),
            estimated=any(r.usage_estimated for r in self.rounds),
        )


async def tool_turn_for(*, user, route, conversation) -> ToolTurn | None:
    """The turn's tools (chat.tools.registry decides), or None: a plain turn."""
    tools = await tools_for(user, route.entry, conversation)
    return ToolTurn(tools) if tools else None


def _cost(spec: ModelSpec, tokens_in: int, cached: int, tokens_out: int) -> Decimal:
    return cost(
        spec,
        input_tokens=tokens_in,
        cached_input_tokens=cached,
        output_tokens=tokens_out,
    )


async def tool_reply(
    turn, stats: StreamStats, config: dict, note: Callable[[dict], None]
) -> AsyncIterator[str]:
    """The reply's text from the tool loop on the route's primary model, each
    tool step sent with `note` (a frame into the reply's log) as it happens.
    Provider failures become the errors every turn maps (ProviderUnavailable,
    ProviderTimeout); the loop has no fallbacks: a tool's side effects must not
    run twice."""
    state: ToolTurn = turn.tools
    candidate = turn.route.candidates[0]
    stats.model, stats.endpoint = candidate.name, candidate.endpoint
    stats.catalogue_key = candidate.catalogue_key
    spec = turn.route.spec_of(candidate.name, candidate.endpoint)
    message_id = turn.reply_id
    limit = settings.CHAT_TOOL_DISPLAY_CHARS
    # The page's view of each call's arguments, filtered as the reply's text is.
    shown: dict[str, StreamFilter] = {}

    def output_filter() -> StreamFilter:
        return StreamFilter(
            canary=turn.canary,
            pii=settings.CHAT_REDACT_PII,
            system_prompt=settings.LLM_SYSTEM_PROMPT,
        )

    def send(kind: str, **fields: Any) -> None:
        state.sent += 1
        note({"type": kind, "message": message_id, "n": state.sent, **fields})

    def show_arguments(call_id: str, text: str) -> None:
        step = state.step(call_id)
        delta = text[: max(limit - len(step["arguments"]), 0)]
        if len(delta) < len(text):
            step["arguments_truncated"] = True
        if delta:
            step["arguments"] += delta
            send("tool_args", call=call_id, delta=delta)

    def arguments_end(call_id: str) -> None:
        if call_id in shown:
            show_arguments(call_id, shown.pop(call_id).finish())

    try:
        async for event in run_tool_loop(
            candidate.model, with_data_note(turn.messages), state.tools, config
        ):
            if isinstance(event, TextDelta):
                if stats.first_token_at is None:
                    stats.first_token_at = time.monotonic()
                state.pending.append(event.text)
                state.in_call = True
                yield event.text
            elif isinstance(event, ToolStarted):
                state.in_call = True
                state.step(event.call_id, event.name)
                shown[event.call_id] = output_filter()
                send("tool_start", call=event.call_id, name=event.name)
            elif isinstance(event, ToolArguments):
                if event.call_id in shown:
                    text = shown[event.call_id].feed(event.delta)
                    show_arguments(event.call_id, text)
            elif isinstance(event, ToolFinished):
                arguments_end(event.call_id)
                await _finished(turn, state, event, send, output_filter())
            elif isinstance(event, ToolFailed):
                arguments_end(event.call_id)
                step = state.step(event.call_id, event.name)
                step.update(state="error", code=event.code, error=event.message)
                send(
                    "tool_error",
                    call=event.call_id,
                    name=step["name"] or event.name,
                    code=event.code,
                    error=event.message,
                )
            elif isinstance(event, ModelRound):
                # Every call's arguments are whole before any tool runs.
                for call_id in list(shown):
                    arguments_end(call_id)
                state.rounds.append(_round(event, spec))
                state.pending.clear()
                state.in_call = False
            elif isinstance(event, LoopEnded):
                state.ended = event.reason
                state.in_call = False
    except openai.APITimeoutError as exc:
        raise ProviderTimeout(detail=type(exc).__name__) from exc
    except openai.APIError as exc:
        raise ProviderUnavailable(detail=type(exc).__name__) from exc


def with_data_note(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The prompt with DATA_NOTE after its leading system messages."""
    lead = 0
    while lead < len(messages) and isinstance(messages[lead], SystemMessage):
        lead += 1
    return [*messages[:lead], SystemMessage(DATA_NOTE), *messages[lead:]]


def _round(event: ModelRound, spec: ModelSpec) -> Round:
    return Round(
        event.input_tokens,
        event.cached_input_tokens,
        event.output_tokens,
        event.estimated,
        _cost(spec, event.input_tokens, event.cached_input_tokens, event.output_tokens),
        event.ttft_ms,
        event.duration_ms,
        event.run_id,
    )


async def _finished(
    turn, state: ToolTurn, event: ToolFinished, send, output_filter: StreamFilter
) -> None:
    """A result: what the page is shown of it filtered, its artefacts stored for
    download, a flagged one recorded, the step and its frame."""
    display = output_filter.feed(event.display) + output_filter.finish()
    artefacts = [await _store_artefact(turn, a) for a in event.artefacts]
    step = state.step(event.call_id, event.name)
    step.update(
        state="done",
        result=display,
        truncated=event.truncated,
        flagged=event.flagged,
        artefacts=artefacts,
    )
    if event.flagged:
        await records.error_record(
            ToolResultFlagged(detail=f"{event.name}: {', '.join(event.reasons)}"),
            user=turn.user,
            kind="tool_result",
            turn_id=turn.id,
            conversation=turn.exchange.conversation,
            message=turn.exchange.reply,
        )
    send(
        "tool_result",
        call=event.call_id,
        name=event.name,
        result=display,
        truncated=event.truncated,
        flagged=event.flagged,
        artefacts=artefacts,
    )


async def _store_artefact(turn, artefact: Artefact) -> dict[str, str]:
    row = await sync_to_async(ToolArtefact.objects.create)(
        message=turn.exchange.reply,
        name=re.sub(r"[^A-Za-z0-9._-]", "_", artefact.name)[-100:],
        content_type=artefact.content_type,
        data=artefact.data,
    )
    return {
        "name": row.name,
        "url": reverse("chat:tool-artefact", kwargs={"pk": row.pk}),
    }
