"""What the HTTP edges answer: a frame as a Server-Sent Event, and a ChatError as a
response (JSON for the page's API, one SSE `error` event for the stream endpoints)
with the error's status and, when it has one, Retry-After."""

from __future__ import annotations

import math

from django.http import HttpResponse, JsonResponse

from chat import protocol
from chat.errors import ChatError

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"


def encode_event(frame: dict) -> bytes:
    """One SSE event: the frame's type as its name, its `seq` as its id."""
    lines = []
    if frame["type"] == "start":
        lines.append("id: 0")
    elif "seq" in frame:
        lines.append(f"id: {frame['seq']}")
    lines.append(f"event: {frame['type']}")
    # JSON escapes newlines, so the frame is always a single data line.
    lines.append(f"data: {protocol.dumps(frame)}")
    return ("\n".join(lines) + "\n\n").encode()


def error_response(
    error: ChatError, *, sse: bool = False, client_id: str | None = None
) -> HttpResponse:
    """The error as JSON `{"code", "message"}`, or (sse) as one `error` event whose
    data is the WebSocket's error frame; the status is the error's own."""
    if sse:
        frame = protocol.error_frame(error, client_id=client_id)
        response = HttpResponse(
            encode_event(frame), status=error.status, content_type=SSE_CONTENT_TYPE
        )
        response["Cache-Control"] = "no-cache"
    else:
        response = JsonResponse(
            {"code": error.code, "message": error.message}, status=error.status
        )
    if error.retry_after is not None:
        response["Retry-After"] = str(max(math.ceil(error.retry_after), 1))
    return response
