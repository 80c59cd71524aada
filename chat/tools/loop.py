"""The bounded tool loop of one turn: the model is called with its tools bound,
every step streamed from `astream_events(version="v2")` as typed events, the tools
it calls are run (in parallel within a round), their results screened and quoted as
data, and the model called again, until it answers without calling a tool or a
limit ends the loop.

Limits: tool calls per turn (`CHAT_TOOL_MAX_CALLS`; past it the model is told so
and called once more without tools), wall time per tool
(`CHAT_TOOL_TIMEOUT_SECONDS`), tokens over all rounds (`CHAT_TOOL_MAX_TOKENS`; past
it no further model call is made), argument size (`CHAT_TOOL_MAX_ARGUMENT_CHARS`).
Cancelling the consumer cancels the model stream and any running tool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from chat.llm.tokens import count_messages, count_text
from chat.tools.errors import ToolError
from chat.tools.registry import Tool, ToolOutput, tool_by_function
from chat.tools.sandbox import Artefact
from chat.tools.untrusted import quote_untrusted

__all__ = [
    "LoopEnded",
    "ModelRound",
    "TextDelta",
    "ToolArguments",
    "ToolEvent",
    "ToolFailed",
    "ToolFinished",
    "ToolStarted",
    "run_tool_loop",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextDelta:
    """Part of the model's answer text."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    """The model began a tool call (its name is known, arguments may follow)."""

    call_id: str
    name: str


@dataclass(frozen=True)
class ToolArguments:
    """A piece of a call's arguments as it streams."""

    call_id: str
    delta: str


@dataclass(frozen=True)
class ToolFinished:
    """A call's result: `display` is truncated for the page; `flagged` when the
    injection screen flagged it (the model got it quoted with a warning);
    `artefacts` are validated PNG files to offer as downloads."""

    call_id: str
    name: str
    display: str
    truncated: bool
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)


@dataclass(frozen=True)
class ToolFailed:
    """A call that produced no result; the model is told the same error."""

    call_id: str
    name: str
    code: str
    message: str


@dataclass(frozen=True)
class ModelRound:
    """One model call of the loop finished (a ledger row each); `estimated` when
    the provider reported no usage and the counts are ours."""

    input_tokens: int
    output_tokens: int
    tool_calls: int
    cached_input_tokens: int = 0
    estimated: bool = False
    run_id: str = ""
    ttft_ms: int | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class LoopEnded:
    """Why the loop ended: `answered`, `max_tokens` (no further model call), or
    `max_calls` (the model then answered without tools)."""

    reason: str


ToolEvent = (
    TextDelta | ToolStarted | ToolArguments | ToolFinished | ToolFailed | ModelRound
)


async def run_tool_loop(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    tools: Sequence[Tool],
    config: RunnableConfig | None = None,
) -> AsyncIterator[ToolEvent | LoopEnded]:
    """Run the loop over `messages` with `tools`, yielding each step; the last
    event is a `LoopEnded`. `config` (callbacks, metadata) goes to every call."""
    history = list(messages)
    calls = tokens = 0
    reason = "answered"
    bound: Any = model.bind_tools([tool.schema() for tool in tools]) if tools else model
    name = str(getattr(model, "model_name", "") or "")
    while True:
        answer: AIMessage | None = None
        raw: dict[str, str] = {}
        call = _Call()
        async for event in _round(bound, history, raw, config, call):
            if isinstance(event, AIMessage):
                answer = event
            else:
                yield event
        requested = []
        if answer is not None and bound is not model:
            requested = list(answer.tool_calls) + list(answer.invalid_tool_calls)
            # LangChain lists calls it could not parse last: keep the model's order.
            position = {call_id: n for n, call_id in enumerate(call.order)}
            requested.sort(key=lambda r: position.get(r.get("id") or "", len(position)))
        measured = _measure(call, answer, history, raw, name, len(requested))
        tokens += measured.input_tokens + measured.output_tokens
        yield measured
        if not requested:
            yield LoopEnded(reason)
            return
        if tokens >= settings.CHAT_TOOL_MAX_TOKENS:
            yield LoopEnded("max_tokens")
            return
        history.append(answer)
        allowed = max(settings.CHAT_TOOL_MAX_CALLS - calls, 0)
        calls += len(requested)
        results = await asyncio.gather(
            *(
                _call(tools, request, raw, over=index >= allowed)
                for index, request in enumerate(requested)
            )
        )
        for event, message in results:
            history.append(message)
            yield event
        if calls >= settings.CHAT_TOOL_MAX_CALLS:
            # The model answers with what it has, and can call no more tools.
            bound, reason = model, "max_calls"


@dataclass
class _Call:
    """Timings and text of one model call, for its ledger row."""

    started: float = field(default_factory=time.monotonic)
    first_at: float | None = None
    run_id: str = ""
    text: list[str] = field(default_factory=list)
    # Call ids in the order the model asked for them.
    order: list[str] = field(default_factory=list)


def _measure(
    call: _Call,
    answer: AIMessage | None,
    history: list[BaseMessage],
    raw: dict[str, str],
    model: str,
    requested: int,
) -> ModelRound:
    """The round's usage: the provider's, else our own count of what was sent
    and what came back."""
    usage = (answer.usage_metadata if answer else None) or {}
    timing = {
        "run_id": call.run_id,
        "ttft_ms": None
        if call.first_at is None
        else int((call.first_at - call.started) * 1000),
        "duration_ms": int((time.monotonic() - call.started) * 1000),
    }
    if usage:
        details = usage.get("input_token_details") or {}
        return ModelRound(
            usage.get("input_tokens", 0),
            usage.get("output_tokens", 0),
            requested,
            cached_input_tokens=details.get("cache_read", 0) or 0,
            **timing,
        )
    output = "".join(call.text) + "".join(raw.values())
    return ModelRound(
        count_messages(history, model),
        count_text(output, model),
        requested,
        estimated=True,
        **timing,
    )


async def _round(
    bound: Any,
    history: list[BaseMessage],
    raw: dict[str, str],
    config: RunnableConfig | None,
    call: _Call,
) -> AsyncIterator[ToolEvent | AIMessage]:
    """One model call: text and tool-call pieces as they stream, then the whole
    message. Each call's argument text is kept in `raw` as it arrived: LangChain
    completes a cut-off JSON object, and a truncated call must not run."""
    ids: dict[int, str] = {}
    async for event in bound.astream_events(history, config=config, version="v2"):
        kind = event["event"]
        if kind == "on_chat_model_start":
            call.run_id = str(event.get("run_id", ""))
        elif kind == "on_chat_model_stream":
            chunk = event["data"]["chunk"]
            if call.first_at is None:
                call.first_at = time.monotonic()
            if isinstance(chunk.content, str) and chunk.content:
                call.text.append(chunk.content)
                yield TextDelta(chunk.content)
            for piece in chunk.tool_call_chunks or []:
                index = piece.get("index") or 0
                if index not in ids and piece.get("name"):
                    ids[index] = piece.get("id") or f"call_{index}"
                    call.order.append(ids[index])
                    yield ToolStarted(ids[index], piece["name"])
                if piece.get("args") and index in ids:
                    raw[ids[index]] = raw.get(ids[index], "") + piece["args"]
                    yield ToolArguments(ids[index], piece["args"])
        elif kind == "on_chat_model_end":
            output = event["data"]["output"]
            if isinstance(output, AIMessage):
                yield output


async def _call(
    tools: Sequence[Tool], request: dict[str, Any], raw: dict[str, str], *, over: bool
) -> tuple[ToolFinished | ToolFailed, ToolMessage]:
    """Run one requested call; every failure becomes a `ToolFailed` and an error
    message for the model, never an exception."""
    call_id = request.get("id") or ""
    function = str(request.get("name") or "")
    try:
        if over:
            raise ToolError("limit", "No more tool calls are allowed in this turn.")
        tool = tool_by_function(list(tools), function)
        arguments = _arguments(request, raw.get(call_id))
        async with asyncio.timeout(settings.CHAT_TOOL_TIMEOUT_SECONDS):
            output = await tool.run(arguments)
    except ToolError as error:
        return _failed(call_id, function, error.code, error.message)
    except TimeoutError:
        return _failed(call_id, function, "timeout", "The tool took too long.")
    except Exception:  # noqa: BLE001 - a tool's bug must not end the turn
        log.exception("tool %s raised", function)
        return _failed(call_id, function, "tool_failed", "The tool failed.")
    if not isinstance(output, ToolOutput):
        output = ToolOutput(str(output))
    text = output.text
    quoted = quote_untrusted(text, source=tool.name)
    if quoted.flagged:
        log.warning("tool result flagged: %s %s", tool.name, quoted.reasons)
    limit = settings.CHAT_TOOL_DISPLAY_CHARS
    finished = ToolFinished(
        call_id,
        tool.name,
        text[:limit],
        len(text) > limit,
        quoted.flagged,
        quoted.reasons,
        output.artefacts,
    )
    return finished, ToolMessage(quoted.text, tool_call_id=call_id)


def _arguments(request: dict[str, Any], raw: str | None) -> dict[str, Any]:
    """A call's arguments as an object, parsed strictly from the streamed text
    when there is one, within the size limit."""
    if raw is not None and len(raw) > settings.CHAT_TOOL_MAX_ARGUMENT_CHARS:
        raise ToolError("too_large", "The arguments are too large.")
    try:
        arguments = json.loads(raw or "{}") if raw is not None else request.get("args")
    except ValueError:
        arguments = None
    if "error" in request or not isinstance(arguments, dict):
        raise ToolError("bad_arguments", "The arguments are not a JSON object.")
    if len(json.dumps(arguments)) > settings.CHAT_TOOL_MAX_ARGUMENT_CHARS:
        raise ToolError("too_large", "The arguments are too large.")
    return arguments


def _failed(
    call_id: str, function: str, code: str, message: str
) -> tuple[ToolFailed, ToolMessage]:
    """The event and the message for the model of a failed call."""
    content = f"Tool error ({code}): {message}"
    return (
        ToolFailed(call_id, function, code, message),
        ToolMessage(content, tool_call_id=call_id, status="error"),
    )
