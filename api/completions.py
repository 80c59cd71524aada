"""POST /v1/chat/completions as a turn of the chat pipeline.

The request's messages go through chat.turns like a message sent from the page
(cleaning, injection screen, limits and budgets, upstream queue, response cache,
output filter, ledger, metrics, tracing); the reply runs as a turn task and streams
through the hub, and this module translates its frames into OpenAI's shapes. The
turn is stateless (chat/ephemeral.py: only its ledger rows are written, naming the
key) unless the client asks to store it as a conversation of the page.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import ApiError, ModelNotFound, from_chat_error
from api.model_access import model_key_for
from api.models import ApiKey
from chat import turns
from chat.delivery import get_hub, watchers
from chat.delivery.sweeper import ensure_sweeper
from chat.errors import ERROR_CODES, ChatError, InternalError, ProviderUnavailable
from chat.models import Message

# Strong references to the stop requests of abandoned replies: the loop keeps
# only weak ones.
_stops: set[asyncio.Task] = set()

FINISH_REASONS = {
    Message.Status.COMPLETE: "stop",
    Message.Status.FILTERED: "content_filter",
}


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[_Part] | None = None
    tool_calls: list[Any] | None = None
    function_call: Any = None


class _StreamOptions(BaseModel):
    include_usage: bool = False


class CompletionRequest(BaseModel):
    """The fields this API reads; others (temperature, max_tokens, user...) are
    accepted and ignored: generation parameters are the server's (docs/api.md)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[_Message] = Field(min_length=1)
    stream: bool = False
    stream_options: _StreamOptions | None = None
    n: int | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    tool_choice: Any = None
    function_call: Any = None
    response_format: dict | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


def parse_request(body: bytes) -> CompletionRequest:
    """The body as a request this API can serve, or a 400 naming the parameter."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ApiError("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    try:
        request = CompletionRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"])
        raise ApiError(f"Invalid '{param}': {first['msg']}.", param=param) from None
    if request.n not in (None, 1):
        raise ApiError("Only n=1 is supported.", param="n", code="unsupported_value")
    for name in ("tools", "functions", "tool_choice", "function_call"):
        if getattr(request, name) not in (None, [], "none"):
            raise ApiError(
                "Tool and function calls are not supported yet.",
                param=name,
                code="unsupported_parameter",
            )
    kind = (request.response_format or {}).get("type", "text")
    if kind != "text":
        raise ApiError(
            "Only text responses are supported.",
            param="response_format",
            code="unsupported_value",
        )
    return request


_ROLES = {
    "system": SystemMessage,
    "developer": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}


def to_messages(request: CompletionRequest) -> list[BaseMessage]:
    """The request's messages for the turn; the last must be the user's."""
    out: list[BaseMessage] = []
    for index, message in enumerate(request.messages):
        param = f"messages.{index}"
        if message.role in ("tool", "function") or message.tool_calls:
            raise ApiError(
                "Tool and function calls are not supported yet.",
                param=f"{param}.role",
                code="unsupported_parameter",
            )
        kind = _ROLES.get(message.role)
        if kind is None:
            raise ApiError(f"Unknown role '{message.role}'.", param=f"{param}.role")
        out.append(kind(_text(message, param)))
    if not isinstance(out[-1], HumanMessage):
        raise ApiError("The last message must be the user's.", param="messages")
    return out


def _text(message: _Message, param: str) -> str:
    if isinstance(message.content, str):
        return message.content
    if message.content is None:
        raise ApiError("A message needs content.", param=f"{param}.content")
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise ApiError(
                f"Content of type '{part.type}' is not supported; send text.",
                param=f"{param}.content",
                code="unsupported_value",
            )
        texts.append(part.text)
    return "\n".join(texts)


@dataclass(frozen=True)
class Started:
    """A completion whose turn is running."""

    reply_id: str
    model: str
    created: int

    @property
    def id(self) -> str:
        return f"chatcmpl-{uuid.UUID(self.reply_id).hex}"


async def completion_start(
    *, api_key: ApiKey, request: CompletionRequest, store: bool
) -> Started:
    """Check the model, begin the turn (every guard and limit) and start it; a
    refusal is raised as an ApiError."""
    user = api_key.user
    model_key = await model_key_for(user, request.model)
    if model_key is None:
        raise ModelNotFound(
            f"The model '{request.model}' does not exist or you do not have access "
            "to it.",
            param="model",
        )
    messages = to_messages(request)
    try:
        turn = await turns.turn_begin_messages(
            user=user,
            client_id=uuid.uuid4(),
            messages=messages,
            model_key=model_key,
            store=store,
            api_key_id=api_key.pk,
        )
    except ChatError as exc:
        raise from_chat_error(exc) from None
    if store:
        ensure_sweeper()
    turns.turn_start(turn)
    return Started(turn.reply_id, request.model, int(time.time()))


def completion_abandon(started: Started) -> None:
    """The client left before the end: stop the reply (it is nobody else's)."""
    task = asyncio.ensure_future(get_hub().request_stop(started.reply_id))
    _stops.add(task)
    task.add_done_callback(_stops.discard)


async def _frames(started: Started) -> AsyncIterator[tuple[str, Any]]:
    """("text", str), ("error", ChatError) and finally ("end", frame). The reply
    runs in this process, so its hub has every frame; the client counts as its
    watcher (CHAT_UNWATCHED_REPLY_GRACE_SECONDS)."""
    async with watchers.watching(started.reply_id):
        async for frame in get_hub().follow(started.reply_id):
            if frame["type"] == "delta":
                yield "text", frame["text"]
            elif frame["type"] == "error":
                kind = ERROR_CODES.get(frame.get("code"), InternalError)
                yield (
                    "error",
                    kind(frame.get("message"), retry_after=frame.get("retry_after")),
                )
            elif frame["type"] == "end":
                yield "end", frame
                return


def _usage(end: dict) -> dict | None:
    usage = end.get("usage")
    if not usage:
        return None
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        "prompt_tokens_details": {"cached_tokens": usage["cached_input_tokens"]},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _failure(end: dict, error: ChatError | None) -> ChatError | None:
    """Why a reply did not end well (None when it did, filtered included)."""
    if end["status"] in FINISH_REASONS:
        return None
    return error or ProviderUnavailable()


async def completion_result(started: Started) -> dict:
    """The whole reply as a `chat.completion`, or its failure as an ApiError."""
    error: ChatError | None = None
    end: dict = {}
    async for kind, value in _frames(started):
        if kind == "error":
            error = value
        elif kind == "end":
            end = value
    failure = _failure(end, error)
    if failure is not None:
        raise from_chat_error(failure)
    return {
        "id": started.id,
        "object": "chat.completion",
        "created": started.created,
        "model": end.get("model") or started.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": end["content"],
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": FINISH_REASONS[end["status"]],
            }
        ],
        "usage": _usage(end),
        "system_fingerprint": None,
    }


async def completion_stream(
    started: Started, *, include_usage: bool
) -> AsyncIterator[bytes]:
    """The reply as OpenAI's server-sent events: chunks, a final chunk with the
    finish reason, the usage chunk when asked for, then `[DONE]`. A failure after
    the stream began is one `error` event, as OpenAI sends it."""

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        body = {
            "id": started.id,
            "object": "chat.completion.chunk",
            "created": started.created,
            "model": started.model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
        }
        if include_usage:
            body["usage"] = None
        return _event(body)

    ended = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        error: ChatError | None = None
        async for kind, value in _frames(started):
            if kind == "text":
                yield chunk({"content": value})
            elif kind == "error":
                error = value
            else:
                ended = True
                failure = _failure(value, error)
                if failure is not None:
                    yield _event(from_chat_error(failure).body())
                    return
                yield chunk({}, FINISH_REASONS[value["status"]])
                if include_usage:
                    yield _event(
                        {
                            "id": started.id,
                            "object": "chat.completion.chunk",
                            "created": started.created,
                            "model": started.model,
                            "system_fingerprint": None,
                            "choices": [],
                            "usage": _usage(value),
                        }
                    )
                yield b"data: [DONE]\n\n"
    finally:
        if not ended:
            completion_abandon(started)


def _event(body: dict) -> bytes:
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()
