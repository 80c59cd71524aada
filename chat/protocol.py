"""WebSocket protocol v1 (docs/protocol.md): client frame schemas and server frames."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import orjson
from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chat.errors import ChatError, InvalidInput
from chat.guards.json_limits import loads_limited
from chat.models import Message
from chat.rendering import render_markdown

PROTOCOL_VERSION = 1

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
# Daphne's WebSocket library (autobahn) lets an application send only 1000 and
# 3000-4999, so "server restarting" is 4012, after the standard 1012.
CLOSE_RESTARTING = 4012


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendFrame(_Frame):
    type: Literal["send"]
    id: uuid.UUID
    conversation: uuid.UUID | None = None
    content: str
    # A catalogue key from `hello`'s `models`; None: the conversation's, or default.
    model: str | None = Field(default=None, min_length=1, max_length=64)
    # A preset id (GET /api/presets/) a new conversation starts from.
    preset: int | None = None


class EditFrame(_Frame):
    """Edit a user message of the branch shown (`message`) and resend it: a new
    version of it, answered by a new reply (chat/edits.py)."""

    type: Literal["edit"]
    id: uuid.UUID
    message: uuid.UUID
    content: str
    # When given, the conversation `message` must belong to.
    conversation: uuid.UUID | None = None
    model: str | None = Field(default=None, min_length=1, max_length=64)


class StopFrame(_Frame):
    type: Literal["stop"]
    message: uuid.UUID


class RedoFrame(_Frame):
    """Regenerate or continue the conversation's last reply (`message`)."""

    type: Literal["regenerate", "continue"]
    id: uuid.UUID
    message: uuid.UUID


class JoinFrame(_Frame):
    type: Literal["join"]
    message: uuid.UUID
    after: int = Field(default=0, ge=0)


ClientFrame = Annotated[
    SendFrame | EditFrame | StopFrame | JoinFrame | RedoFrame,
    Field(discriminator="type"),
]
_client_frame = TypeAdapter(ClientFrame)


def parse(
    text: str | None,
) -> SendFrame | EditFrame | StopFrame | JoinFrame | RedoFrame:
    """A validated client frame, or InvalidInput naming what is wrong."""
    if text is None:
        raise InvalidInput("Frames must be JSON text, not binary.")
    data = loads_limited(text, max_bytes=settings.CHAT_MAX_FRAME_BYTES)
    if not isinstance(data, dict):
        raise InvalidInput("A frame must be a JSON object with a 'type'.")
    try:
        return _client_frame.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        if first["type"] == "union_tag_invalid":
            msg = f"Unknown frame type {data.get('type')!r}."
        elif first["type"] == "union_tag_not_found":
            msg = "A frame needs a 'type'."
        else:
            msg = f"Field '{where}': {first['msg']}."
        raise InvalidInput(msg) from None


def client_id_of(text: str | None) -> str | None:
    """The 'id' of a frame that failed validation, so its error can name it."""
    try:
        value = loads_limited(text or "", max_bytes=settings.CHAT_MAX_FRAME_BYTES)
        value = value.get("id")
    except (ChatError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


def hello_frame(
    *,
    username: str,
    model: str,
    demo: bool,
    models: list | None = None,
    default_key: str = "",
) -> dict:
    frame = {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "user": username,
        "model": model,
        "demo": demo,
    }
    if models is not None:
        frame["models"] = [model_info(e, default=default_key) for e in models]
    return frame


def model_info(entry, *, default: str) -> dict:
    """One model of the picker (a chat.catalogue Entry): never its endpoint or key."""
    spec = entry.spec
    return {
        "key": entry.key,
        "name": entry.name,
        "context_window": spec.context_window,
        "max_output_tokens": spec.max_output_tokens,
        # USD per million tokens, as decimal strings ("0.15").
        "prices": {
            "input": _price(spec.input_per_mtok),
            "cached_input": _price(spec.cached_input_per_mtok),
            "output": _price(spec.output_per_mtok),
        },
        "capabilities": {
            "streaming_usage": entry.streaming_usage,
            "vision": entry.vision,
            # LLM_TOOLS marks the model seeded from LLM_MODEL tool-capable.
            "tools": entry.tools or (entry.from_environment and settings.LLM_TOOLS),
            "json_mode": entry.json_mode,
        },
        "temperature": {
            "default": entry.temperature,
            "min": entry.min_temperature,
            "max": entry.max_temperature,
        },
        "demo": entry.demo,
        "default": entry.key == default,
    }


def _price(value) -> str:
    return f"{value.normalize():f}"


def start_frame(
    exchange,
    *,
    client_id: uuid.UUID,
    demo: bool,
    model_key: str = "",
    model_note: str = "",
    replaces: uuid.UUID | None = None,
    edits: uuid.UUID | None = None,
) -> dict:
    """`replaces`: the reply a regenerate makes a new version of; `edits`: the user
    message an edit makes a new version of; `continues`: the reply a continuation
    carries on (its parent)."""
    reply = exchange.reply
    frame = {
        "type": "start",
        "id": str(client_id),
        "conversation": str(exchange.conversation.id),
        "title": exchange.conversation.title,
        "user_message": str(exchange.user_message.id),
        "message": str(reply.id),
        "model": reply.model,
        "model_key": model_key or exchange.conversation.model_key,
        "demo": demo,
        "created": reply.created.isoformat(),
    }
    if model_note:
        frame["model_note"] = model_note
    if replaces:
        frame["replaces"] = str(replaces)
    if edits:
        frame["edits"] = str(edits)
    if reply.parent_id != exchange.user_message.id:
        frame["continues"] = str(reply.parent_id)
    return frame


def error_frame(
    error: ChatError,
    *,
    client_id: str | None = None,
    message_id: str | None = None,
    turn_id: str | None = None,
) -> dict:
    frame = {
        "type": "error",
        "code": error.code,
        "message": error.message,
        "id": client_id,
        "message_id": message_id,
    }
    if turn_id:
        frame["turn"] = turn_id  # quoted in support requests; found in the logs
    if error.retry_after is not None:
        frame["retry_after"] = round(error.retry_after, 1)
    return frame


def queued_frame(message_id: str, position: int) -> dict:
    """Where a reply waits for the provider: 1 is next; 0 when its turn has come."""
    return {"type": "queued", "message": message_id, "position": position}


def status_frame(message_id: str, text: str, retry: int) -> dict:
    """What keeps a reply waiting (no chunk yet, a pause, a retry): `retry` counts
    the retries and fallbacks so far."""
    return {"type": "status", "message": message_id, "text": text, "retry": retry}


def title_frame(conversation) -> dict:
    """A conversation's new title, for every socket of its owner: the model's, or
    the owner's own (`source` "model" or "user")."""
    return {
        "type": "title",
        "conversation": str(conversation.pk),
        "title": conversation.title,
        "source": conversation.title_source,
    }


def usage_of(message: Message) -> dict:
    return {
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "cached_input_tokens": message.cached_input_tokens,
        "estimated": message.usage_estimated,
    }


def end_frame(reply: Message, *, cached: dict | None = None) -> dict:
    """The final frame of a reply, from what was stored; `cached` is what a
    response-cache hit saved (tokens and cost of the call it stood in for)."""
    frame = {
        "type": "end",
        "message": str(reply.id),
        "status": reply.status,
        "content": reply.content,
        "html": render_markdown(reply.content),
        "usage": usage_of(reply),
        "cost": f"{reply.cost:.8f}",
        "model": reply.model,
        "ttft_ms": reply.ttft_ms,
        "duration_ms": reply.duration_ms,
        "truncated": reply.truncated,
    }
    if reply.tool_steps:
        frame["tools"] = reply.tool_steps
    if cached is not None:
        frame["cached"] = True
        frame["saved"] = cached
    return frame


def end_unsaved_frame(message_id: str, content: str) -> dict:
    """The end of a reply that could not be stored: the text is still delivered."""
    return {
        "type": "end",
        "message": message_id,
        "status": Message.Status.FAILED,
        "content": content,
        "html": render_markdown(content),
        "usage": None,
        "cost": None,
        "ttft_ms": None,
        "duration_ms": None,
    }


def dumps(frame: dict) -> str:
    """A frame's JSON text: orjson, 0.2 µs for a delta against the stdlib's 2.4
    (bench/stream_path.py); the same compact UTF-8 output."""
    return orjson.dumps(frame).decode()
