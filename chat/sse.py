"""Server-Sent Events: the WebSocket's turn over plain HTTP, for non-browser clients.

- `POST /api/chat/stream` with `{"id", "conversation", "content"}` streams `start`,
  `delta`s, an `error` if the reply failed, then `end`;
- `GET /api/chat/stream/<message_id>` (with `Last-Event-ID` or `?after=`) replays
  the deltas after that sequence number, then follows the reply live;
- `POST /api/chat/stream/<message_id>/stop` stops a reply in flight.

Each event's data is the WebSocket frame itself (docs/protocol.md), and `id:` is its
`seq`, so any SSE client resumes exactly where it left off. Authentication is the
session cookie, and POSTs carry the CSRF token (`X-CSRFToken`) like every unsafe
request of the site. Like the consumer, this is a thin edge: it calls the same turn
functions (turns.turn_begin, turns.turn_start, delivery.following.reply_frames), so
every guard, limit and record is shared; closing the stream stops following, not
the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from chat import protocol, turns
from chat.delivery import following, watchers
from chat.delivery.sweeper import ensure_sweeper
from chat.errors import ChatError, InternalError, InvalidInput, TooLong, Unauthenticated
from chat.guards.json_limits import loads_limited
from chat.guards.repeats import RepeatedErrors
from chat.llm.chat_models import is_demo
from chat.observability import records
from chat.responses import SSE_CONTENT_TYPE, encode_event, error_response

log = logging.getLogger("chat.sse")
# One client repeating a failing request is logged once, with a count.
_errors = RepeatedErrors(log)

# A comment line this often while nothing else is sent, so proxies and load
# balancers with idle timeouts (often 30-60 s) keep a slow reply's stream open.
KEEPALIVE_SECONDS = 15.0


@require_POST
async def stream_send(request: HttpRequest) -> HttpResponse:
    """Ask for a reply and stream it; a resend of the same id replays the same turn."""
    user = body = None
    try:
        user = await _authenticated(request)
        body = _body(request)
        frame = _send_frame(body)
        turn = await turns.turn_begin(
            user=user,
            client_id=frame.id,
            conversation_id=frame.conversation,
            content=frame.content,
        )
    except ChatError as exc:
        return error_response(exc, sse=True, client_id=protocol.client_id_of(body))
    except Exception as exc:
        return await _internal(exc, user=user, client_id=protocol.client_id_of(body))
    if turn.messages is not None:
        turns.turn_start(turn)
    start = protocol.start_frame(turn.exchange, client_id=frame.id, demo=is_demo())
    return event_stream(turn.reply_id, after=0, first=start)


@require_GET
async def stream_follow(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    """Replay a reply after the last event the client saw, then follow it."""
    user = None
    try:
        user = await _authenticated(request)
        after = _after(request)
        reply = await following.reply_for_join(user=user, message_id=message_id)
    except ChatError as exc:
        return error_response(exc, sse=True)
    except Exception as exc:
        return await _internal(exc, user=user)
    return event_stream(str(reply.id), after=after)


@require_POST
async def stream_stop(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    """Stop a reply in flight, wherever it generates; its stream then ends."""
    user = None
    try:
        user = await _authenticated(request)
        await turns.turn_stop(user=user, message_id=message_id)
    except ChatError as exc:
        return error_response(exc)
    except Exception as exc:
        await _internal(exc, user=user)
        return error_response(InternalError())
    return JsonResponse({"message": str(message_id), "stopping": True}, status=202)


async def _authenticated(request: HttpRequest):
    """The session's user (the session store may be down: that is `internal`)."""
    user = await request.auser()
    if not user.is_authenticated:
        raise Unauthenticated()
    # Like a socket's connect: this process sweeps replies its peers left behind.
    ensure_sweeper()
    return user


def event_stream(
    message_id: str, *, after: int, first: dict | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _events(message_id, after=after, first=first), content_type=SSE_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-cache"
    # Tell nginx-style proxies not to buffer the stream.
    response["X-Accel-Buffering"] = "no"
    return response


async def _events(
    message_id: str, *, after: int, first: dict | None
) -> AsyncIterator[bytes]:
    if first is not None:
        yield encode_event(first)
    frames = aiter(following.reply_frames(message_id, after=after))
    pending: asyncio.Future | None = None
    # Counted as a follower while the client reads (CHAT_UNWATCHED_REPLY_GRACE).
    async with watchers.watching(message_id):
        try:
            while True:
                # Wait for the next frame without cancelling it when it is slow:
                # cancelling would close the follower mid-read.
                pending = asyncio.ensure_future(anext(frames))
                while not (await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS))[0]:
                    yield b": keep-alive\n\n"
                try:
                    frame = pending.result()
                except StopAsyncIteration:
                    return
                finally:
                    pending = None
                yield encode_event(frame)
        except Exception:
            # The reply goes on and is stored; the client can follow it again.
            log.exception("following reply %s failed", message_id)
            yield encode_event(
                protocol.error_frame(InternalError(), message_id=message_id)
            )
        finally:
            # The client left (or the reply ended): stop following, never the reply.
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            await frames.aclose()


def _body(request: HttpRequest) -> str:
    """The request body as text, within the WebSocket's frame size limit."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise TooLong("That request is too large.") from None
    if len(raw) > settings.CHAT_MAX_FRAME_BYTES:
        raise TooLong("That request is too large.")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidInput("The request body must be UTF-8 JSON.") from None


def _send_frame(body: str) -> protocol.SendFrame:
    """The body validated exactly like a WebSocket `send` frame."""
    data = loads_limited(
        body, max_bytes=settings.CHAT_MAX_FRAME_BYTES, what="request body"
    )
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return protocol.parse(protocol.dumps({**data, "type": "send"}))


def _after(request: HttpRequest) -> int:
    """The last sequence number the client saw: Last-Event-ID wins over ?after=."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        after = int(raw)
    except ValueError:
        raise InvalidInput("Last-Event-ID must be a sequence number.") from None
    if after < 0:
        raise InvalidInput("Last-Event-ID must be a sequence number.")
    return after


async def _internal(
    exc: Exception, *, user, client_id: str | None = None
) -> HttpResponse:
    """Log and record an unexpected failure; the client sees a generic error."""
    source = f"user {getattr(user, 'pk', None)}"
    if _errors.exception(
        "unexpected error in an SSE request", source=source, kind=type(exc).__name__
    ):
        error = InternalError(detail=repr(exc))
        error.__cause__ = exc
        await records.error_record(error, user=user, kind="sse")
    return error_response(InternalError(), sse=True, client_id=client_id)
