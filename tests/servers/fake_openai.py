"""A scripted OpenAI-compatible chat server on loopback, over real HTTP and SSE.

Tests point the real ``openai`` SDK (and LangChain on top of it) at this server so
that retries, timeouts, cut streams and Stop cancellations travel through the same
sockets, HTTP framing and SSE parsing as in production.

Each ``POST /v1/chat/completions`` consumes one scripted behaviour from a queue
(``Reply``, ``Status``, ``Stall`` or ``Cut``), falling back to ``default`` when the
queue is empty. Streams use chunked transfer encoding, so a dropped connection is
an error for the client rather than a clean end. While a response is in flight the
server keeps reading the socket, so a client that leaves early is seen at once and
counted in ``disconnects``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

__all__ = [
    "Behaviour",
    "Cut",
    "FakeOpenAI",
    "RecordedRequest",
    "Reply",
    "Stall",
    "Status",
    "ToolCall",
]

_HEAD_LIMIT = 1 << 20
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ToolCall:
    """A tool call in a reply; streamed, its arguments arrive in ``pieces`` chunks."""

    name: str
    arguments: str = "{}"
    id: str = ""
    pieces: int = 3


@dataclass(frozen=True)
class Reply:
    """A normal completion, streamed token by token when the request streams;
    with ``tool_calls`` it ends in those calls (several: parallel calls)."""

    tokens: Sequence[str] = ("Hello", "!")
    usage: tuple[int, int] | None = None
    cached_tokens: int = 0
    delay: float = 0.0
    first_delay: float = 0.0
    send_usage: bool = True
    finish_reason: str = "stop"
    tool_calls: Sequence[ToolCall] = ()

    @property
    def finish(self) -> str:
        """The finish reason sent: ``tool_calls`` when the reply calls tools."""
        return "tool_calls" if self.tool_calls else self.finish_reason


def _call_id(call: ToolCall, index: int) -> str:
    """The call's id, or one derived from its position."""
    return call.id or f"call_{index}"


def _tool_call_deltas(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Stream deltas for tool calls as OpenAI sends them: each call's id and name
    first, then its arguments split across chunks, call after call."""
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(calls):
        head = {"name": call.name, "arguments": ""}
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": _call_id(call, index),
                        "type": "function",
                        "function": head,
                    }
                ]
            }
        )
        size = max(1, -(-len(call.arguments) // max(call.pieces, 1)))
        for start in range(0, len(call.arguments), size):
            piece = call.arguments[start : start + size]
            deltas.append(
                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            )
    return deltas


@dataclass(frozen=True)
class Status:
    """An HTTP error answer, as OpenAI sends for rate limits and outages."""

    code: int = 429
    retry_after: float | None = None
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    """An upstream that answers, sends ``tokens``, goes silent, then hangs up."""

    seconds: float = 30.0
    tokens: Sequence[str] = ()


@dataclass(frozen=True)
class Cut:
    """A stream that sends ``after`` tokens (default all) then drops the socket."""

    tokens: Sequence[str] = ("Hello", " world")
    after: int | None = None


Behaviour = Reply | Status | Stall | Cut


@dataclass(frozen=True)
class RecordedRequest:
    """One chat-completions request as received, so tests can assert on it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    behaviour: Behaviour
    # When it arrived, on this process's monotonic clock (time.monotonic()).
    at: float = 0.0

    @property
    def stream(self) -> bool:
        """Whether the client asked for an SSE stream."""
        return bool(self.body.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages the client sent."""
        return list(self.body.get("messages") or [])


_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    404: ("The model does not exist.", "invalid_request_error", "model_not_found"),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: (
        "The engine is currently overloaded, please try again later.",
        "server_error",
        None,
    ),
}


def error_body(code: int, message: str | None = None) -> dict[str, Any]:
    """Build the JSON error body OpenAI sends with a given status code."""
    default_message, kind, err_code = _ERROR_DEFAULTS.get(
        code,
        (
            http.HTTPStatus(code).phrase,
            "server_error" if code >= 500 else "invalid_request_error",
            None,
        ),
    )
    return {
        "error": {
            "message": message or default_message,
            "type": kind,
            "param": None,
            "code": err_code,
        }
    }


def count_words(messages: Iterable[Mapping[str, Any]]) -> int:
    """Roughly count prompt tokens as words, so tests can predict the usage."""
    words = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            words += len(content.split())
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    words += len(part["text"].split())
    return words


def _usage(reply: Reply, body: Mapping[str, Any]) -> dict[str, Any]:
    """Build an OpenAI usage object from the configured or computed counts."""
    if reply.usage is None:
        prompt = count_words(body.get("messages") or [])
        completion = len(reply.tokens)
    else:
        prompt, completion = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {
            "cached_tokens": reply.cached_tokens,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    """Serialise an HTTP/1.1 status line and headers."""
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    """Frame bytes as one HTTP chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _sse(payload: Mapping[str, Any] | str) -> bytes:
    """Frame a JSON payload (or a literal like [DONE]) as one SSE event chunk."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return _chunk(f"data: {text}\n\n".encode())


class _Completion:
    """The ids and fields shared by every chunk of one completion."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = str(body.get("model") or "gpt-4o-mini")
        options = body.get("stream_options") or {}
        self.include_usage = bool(options.get("include_usage"))

    def chunk(
        self,
        delta: Mapping[str, Any] | None,
        finish_reason: str | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build a chat.completion.chunk; delta None means the usage-only chunk."""
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": []
            if delta is None
            else [
                {
                    "index": 0,
                    "delta": dict(delta),
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
        }
        if self.include_usage:
            payload["usage"] = usage
        return payload

    def message(self, reply: Reply, body: Mapping[str, Any]) -> dict[str, Any]:
        """Build the non-streaming chat.completion object."""
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "".join(reply.tokens),
                        "refusal": None,
                        "annotations": [],
                        **(
                            {
                                "tool_calls": [
                                    {
                                        "id": _call_id(call, index),
                                        "type": "function",
                                        "function": {
                                            "name": call.name,
                                            "arguments": call.arguments,
                                        },
                                    }
                                    for index, call in enumerate(reply.tool_calls)
                                ]
                            }
                            if reply.tool_calls
                            else {}
                        ),
                    },
                    "logprobs": None,
                    "finish_reason": reply.finish,
                }
            ],
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }
        if reply.send_usage:
            payload["usage"] = _usage(reply, body)
        return payload


class _Exchange:
    """One response in flight, reading the socket to see the client leave early."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._writer = writer
        self._watch = asyncio.ensure_future(self._read_until_eof(reader))
        self.finished = False
        self.left_early = False
        self.reusable = True

    async def _read_until_eof(self, reader: asyncio.StreamReader) -> None:
        """Return when the peer closes; stray bytes make the connection unusable."""
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                self.reusable = False

    def alive(self) -> bool:
        """Whether the client is still there; note it if it left before the end."""
        if self._watch.done():
            if not self.finished:
                self.left_early = True
            return False
        return True

    async def pause(self, seconds: float) -> bool:
        """Sleep, waking early if the client leaves; return whether it stayed."""
        if seconds > 0 and not self._watch.done():
            await asyncio.wait({self._watch}, timeout=seconds)
        return self.alive()

    async def write(self, data: bytes) -> bool:
        """Send bytes unless the client left; return whether they were sent."""
        if not self.alive():
            return False
        self._writer.write(data)
        try:
            await self._writer.drain()
        except ConnectionError:
            if not self.finished:
                self.left_early = True
            return False
        return True

    async def close(self) -> None:
        """Stop watching the socket so the next request can be read from it."""
        self._watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watch


class FakeOpenAI:
    """An OpenAI-compatible server in a background thread with a behaviour script."""

    def __init__(
        self,
        *,
        default: Behaviour | None = None,
        models: Sequence[str] = ("gpt-4o-mini",),
        host: str = "127.0.0.1",
    ) -> None:
        self.default: Behaviour = default if default is not None else Reply()
        self.models = tuple(models)
        self.host = host
        self.port = 0
        self._cond = threading.Condition()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client, ending in /v1."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> Self:
        """Bind a free port and serve from a daemon thread with its own loop."""
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name="fake-openai", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            future = asyncio.run_coroutine_threadsafe(self._open(), loop)
            self._server = future.result(timeout=_STOP_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every connection, stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._server is not None:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(
                    timeout=_STOP_TIMEOUT
                )
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=_STOP_TIMEOUT)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _open(self) -> asyncio.Server:
        """Listen on a free loopback port."""
        server = await asyncio.start_server(
            self._serve_connection, self.host, 0, limit=_HEAD_LIMIT
        )
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _shutdown(self) -> None:
        """Stop listening and cancel connections, so wait_closed cannot hang."""
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), _STOP_TIMEOUT)

    # -- script and observations -----------------------------------------------

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Script the next requests, one behaviour each, in order."""
        with self._cond:
            self._queue.extend(behaviours)

    def reset(self) -> None:
        """Forget the script, the recorded requests and the disconnect count."""
        with self._cond:
            self._queue.clear()
            self._requests.clear()
            self._disconnects = 0
            self._cond.notify_all()

    @property
    def queued(self) -> int:
        """How many scripted behaviours are still waiting for a request."""
        with self._cond:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The chat-completions requests received so far (a copy)."""
        with self._cond:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many chat-completions requests were received."""
        with self._cond:
            return len(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent chat-completions request."""
        with self._cond:
            if not self._requests:
                raise LookupError("no chat-completions request received yet")
            return self._requests[-1]

    @property
    def disconnects(self) -> int:
        """How many responses the client abandoned before the server finished."""
        with self._cond:
            return self._disconnects

    def wait_for_requests(self, count: int = 1, within: float = 5.0) -> bool:
        """Block until ``count`` requests arrived; for sync tests and threads."""
        return self._wait(lambda: len(self._requests) >= count, within)

    def wait_for_disconnects(self, count: int = 1, within: float = 2.0) -> bool:
        """Block until ``count`` disconnects were seen; for sync tests and threads."""
        return self._wait(lambda: self._disconnects >= count, within)

    async def async_wait_for_requests(
        self, count: int = 1, within: float = 5.0
    ) -> bool:
        """Wait for ``count`` requests without blocking the caller's event loop."""
        return await self._async_wait(lambda: self.request_count >= count, within)

    async def async_wait_for_disconnects(
        self, count: int = 1, within: float = 2.0
    ) -> bool:
        """Wait for ``count`` disconnects without blocking the caller's loop."""
        return await self._async_wait(lambda: self.disconnects >= count, within)

    def _wait(self, ready: Callable[[], bool], within: float) -> bool:
        """Wait on the condition until ``ready`` holds or ``within`` seconds pass."""
        with self._cond:
            return self._cond.wait_for(ready, within)

    async def _async_wait(self, ready: Callable[[], bool], within: float) -> bool:
        """Poll ``ready`` on the caller's loop until it holds or time runs out."""
        deadline = time.monotonic() + within
        while not ready():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def _take(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> Behaviour:
        """Pop the next behaviour and record the request it answers."""
        with self._cond:
            behaviour = self._queue.popleft() if self._queue else self.default
            self._requests.append(
                RecordedRequest(
                    method, path, headers, body, behaviour, at=time.monotonic()
                )
            )
            self._cond.notify_all()
        return behaviour

    def _count_disconnect(self) -> None:
        """Record that a client left mid-response."""
        with self._cond:
            self._disconnects += 1
            self._cond.notify_all()

    # -- HTTP ------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answer requests on one keep-alive connection until either side closes."""
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,  # a malformed request line or Content-Length
        ):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels us; ending normally keeps asyncio's stream
            # callback (3.12.1) from raising on a cancelled task.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read and answer one request; return whether to keep the connection."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        raw = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        keep = headers.get("connection", "").lower() != "close"

        if method == "GET" and path == "/v1/models":
            await self._send_json(writer, 200, self._models())
            return keep
        if method != "POST" or path != "/v1/chat/completions":
            body = error_body(404, f"Invalid URL ({method} {path})")
            await self._send_json(writer, 404, body)
            return keep
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            await self._send_json(writer, 400, error_body(400, "Invalid JSON body."))
            return keep

        behaviour = self._take(method, path, headers, body)
        exchange = _Exchange(reader, writer)
        try:
            keep = await self._respond(exchange, behaviour, body) and keep
        finally:
            await exchange.close()
        if exchange.left_early:
            self._count_disconnect()
        return keep and exchange.reusable and not exchange.left_early

    def _models(self) -> dict[str, Any]:
        """The body of GET /v1/models."""
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "openai"}
                for name in self.models
            ],
        }

    async def _send_json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: Mapping[str, Any],
    ) -> None:
        """Send a complete JSON response with a Content-Length."""
        data = json.dumps(body).encode()
        headers = {
            "content-type": "application/json",
            "content-length": str(len(data)),
            "x-request-id": f"req_{uuid.uuid4().hex}",
        }
        writer.write(_head(status, headers) + data)
        await writer.drain()

    async def _respond(
        self, exchange: _Exchange, behaviour: Behaviour, body: dict[str, Any]
    ) -> bool:
        """Play one behaviour; return whether the connection may be reused."""
        completion = _Completion(body)
        stream = bool(body.get("stream"))
        match behaviour:
            case Status():
                return await self._status(exchange, behaviour)
            case Reply() if stream:
                return await self._stream_reply(exchange, completion, behaviour, body)
            case Reply():
                return await self._plain_reply(exchange, completion, behaviour, body)
            case Stall():
                if stream and await self._open_stream(exchange):
                    await self._send_tokens(exchange, completion, behaviour.tokens)
                if await exchange.pause(behaviour.seconds):
                    exchange.finished = True
                return False
            case Cut() if stream:
                if await self._open_stream(exchange):
                    tokens = behaviour.tokens[: behaviour.after]
                    await self._send_tokens(exchange, completion, tokens)
                exchange.finished = True
                return False
            case Cut():
                reply = Reply(tokens=behaviour.tokens)
                data = json.dumps(completion.message(reply, body)).encode()
                head = _head(
                    200,
                    {
                        "content-type": "application/json",
                        "content-length": str(len(data)),
                    },
                )
                exchange.finished = True
                await exchange.write(head + data[: len(data) // 2])
                return False
        raise TypeError(f"unknown behaviour {behaviour!r}")

    async def _status(self, exchange: _Exchange, status: Status) -> bool:
        """Send an error status with an OpenAI-style body and Retry-After."""
        data = json.dumps(
            dict(status.body) if status.body is not None else error_body(status.code)
        ).encode()
        headers = {
            "content-type": "application/json",
            "content-length": str(len(data)),
            "x-request-id": f"req_{uuid.uuid4().hex}",
        }
        if status.retry_after is not None:
            headers["retry-after"] = f"{status.retry_after:g}"
        headers.update(status.headers)
        exchange.finished = True
        return await exchange.write(_head(status.code, headers) + data)

    async def _plain_reply(
        self,
        exchange: _Exchange,
        completion: _Completion,
        reply: Reply,
        body: Mapping[str, Any],
    ) -> bool:
        """Wait as long as generating would take, then send one JSON completion."""
        took = reply.first_delay + reply.delay * max(len(reply.tokens) - 1, 0)
        if not await exchange.pause(took):
            return False
        data = json.dumps(completion.message(reply, body)).encode()
        headers = {
            "content-type": "application/json",
            "content-length": str(len(data)),
            "x-request-id": f"req_{uuid.uuid4().hex}",
        }
        exchange.finished = True
        return await exchange.write(_head(200, headers) + data)

    async def _open_stream(self, exchange: _Exchange) -> bool:
        """Send the SSE response head; return whether the client is still there."""
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "transfer-encoding": "chunked",
            "cache-control": "no-cache",
            "x-request-id": f"req_{uuid.uuid4().hex}",
        }
        return await exchange.write(_head(200, headers))

    async def _send_tokens(
        self,
        exchange: _Exchange,
        completion: _Completion,
        tokens: Sequence[str],
        first_delay: float = 0.0,
        delay: float = 0.0,
    ) -> bool:
        """Stream the role chunk and one content chunk per token, paced."""
        if not await exchange.pause(first_delay):
            return False
        role = {"role": "assistant", "content": "", "refusal": None}
        if not await exchange.write(_sse(completion.chunk(role))):
            return False
        for index, token in enumerate(tokens):
            if index and not await exchange.pause(delay):
                return False
            if not await exchange.write(_sse(completion.chunk({"content": token}))):
                return False
        return True

    async def _stream_reply(
        self,
        exchange: _Exchange,
        completion: _Completion,
        reply: Reply,
        body: Mapping[str, Any],
    ) -> bool:
        """Stream a full reply: role, tokens, finish, optional usage, [DONE]."""
        if not await self._open_stream(exchange):
            return False
        sent = await self._send_tokens(
            exchange, completion, reply.tokens, reply.first_delay, reply.delay
        )
        if not sent:
            return False
        for delta in _tool_call_deltas(reply.tool_calls):
            if not await exchange.pause(reply.delay):
                return False
            if not await exchange.write(_sse(completion.chunk(delta))):
                return False
        tail = _sse(completion.chunk({}, reply.finish))
        if completion.include_usage and reply.send_usage:
            tail += _sse(completion.chunk(None, usage=_usage(reply, body)))
        if not await exchange.write(tail):
            return False
        # The SDK may hang up right after [DONE]; that is a normal end, not a leave.
        exchange.finished = True
        return await exchange.write(_sse("[DONE]") + b"0\r\n\r\n")
