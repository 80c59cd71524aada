"""A fast OpenAI-compatible streaming endpoint on loopback, with emit times in tokens.

Run: .venv/bin/python -m bench.endpoint --port 0 [--cpu 1]
Prints one JSON line ``{"port": N}`` when it listens, then serves until killed.

``POST /v1/chat/completions`` streams K tokens (see bench/stamps.py: each token is its
own emit time), either paced at ``rate`` tokens/s per stream with the first after
``first`` ms, or as fast as possible (``rate=0``: one chunk per event-loop turn per
stream, so the server reads one token per turn as from a real model). The load
generator picks these per request by writing ``k=200 rate=50 first=300`` in the user
message; the last user message wins. Built on asyncio protocols with pre-built chunk
bytes so that 500 paced streams (25k chunks/s) cost the endpoint a fraction of a core
(tests/servers/fake_openai.py is the scriptable one for tests; this one is for speed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys

from bench import stamps

_PARAM = re.compile(r"\b(k|rate|first|batch)=(\d+(?:\.\d+)?)")
_HEAD_MAX = 1 << 16

_PREFIX = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,'
    b'"model":"%s","system_fingerprint":"fp_bench","choices":[{"index":0,'
    b'"delta":{"content":"'
)
_SUFFIX = b'"},"logprobs":null,"finish_reason":null}]}\n\n'


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _sse(payload: dict | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return _http_chunk(b"data: " + text.encode() + b"\n\n")


class Params:
    __slots__ = ("k", "rate", "first", "batch")

    def __init__(self, k: int, rate: float, first: float, batch: int) -> None:
        self.k, self.rate, self.first, self.batch = k, rate, first, batch

    @classmethod
    def from_body(cls, body: dict, default: Params) -> Params:
        values = {
            "k": default.k,
            "rate": default.rate,
            "first": default.first,
            "batch": default.batch,
        }
        for message in body.get("messages") or []:
            content = message.get("content")
            if message.get("role") == "user" and isinstance(content, str):
                for name, value in _PARAM.findall(content):
                    values[name] = float(value)
        return cls(
            int(values["k"]),
            float(values["rate"]),
            float(values["first"]),
            max(1, int(values["batch"])),
        )


class Stats:
    requests = 0
    tokens = 0
    disconnects = 0


class _Stream:
    """One streamed completion on a connection."""

    def __init__(self, conn: Upstream, params: Params, model: bytes, usage: bool):
        self.conn = conn
        self.params = params
        self.prefix = _PREFIX % model
        self.usage = usage
        self.model = model
        self.sent = 0
        self.handle: asyncio.Handle | None = None
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()

    def start(self) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n"
            b"x-request-id: req_bench\r\n\r\n"
        )
        self.conn.transport.write(head)
        delay = self.params.first / 1000
        if delay > 0:
            self.handle = self.loop.call_at(self.t0 + delay, self.step)
        else:
            self.handle = self.loop.call_soon(self.step)

    def _token_chunk(self) -> bytes:
        token = stamps.encode(stamps.now_us()).encode()
        return _http_chunk(self.prefix + token + _SUFFIX)

    def step(self) -> None:
        self.handle = None
        conn = self.conn
        if conn.closed:
            return
        if self.sent == 0:
            role = {
                "id": "chatcmpl-bench",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": self.model.decode(),
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
            }
            conn.transport.write(_sse(role))
        p = self.params
        n = min(p.batch, p.k - self.sent)
        if n > 0:
            if n == 1:
                conn.transport.write(self._token_chunk())
            else:
                conn.transport.write(b"".join(self._token_chunk() for _ in range(n)))
            self.sent += n
            Stats.tokens += n
        if self.sent >= p.k:
            self.finish()
            return
        if p.rate > 0:
            self.handle = self.loop.call_at(
                self.t0 + p.first / 1000 + self.sent / p.rate, self.step
            )
        elif conn.paused:
            conn.waiting = self
        else:
            self.handle = self.loop.call_soon(self.step)

    def finish(self) -> None:
        tail = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model.decode(),
            "choices": [
                {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
            ],
        }
        out = _sse(tail)
        if self.usage:
            out += _sse(
                {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": self.model.decode(),
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 20,
                        "completion_tokens": self.params.k,
                        "total_tokens": 20 + self.params.k,
                        "prompt_tokens_details": {"cached_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 0},
                    },
                }
            )
        out += _sse("[DONE]") + b"0\r\n\r\n"
        self.conn.transport.write(out)
        self.conn.stream = None
        self.conn.serve_buffered()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class Upstream(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    default = Params(100, 50.0, 0.0, 1)

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.stream: _Stream | None = None
        self.closed = False
        self.paused = False
        self.waiting: _Stream | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.stream is not None:
            Stats.disconnects += 1
            self.stream.cancel()
            self.stream = None

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        waiting, self.waiting = self.waiting, None
        if waiting is not None and not self.closed:
            waiting.handle = asyncio.get_running_loop().call_soon(waiting.step)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HEAD_MAX * 16:
            self.transport.close()
            return
        if self.stream is None:
            self.serve_buffered()

    def serve_buffered(self) -> None:
        while self.stream is None and not self.closed:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.handle(method, target.split("?", 1)[0], body)

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (status, reason, len(data), data)
        )

    def handle(self, method: str, path: str, raw: bytes) -> None:
        if method == "GET" and path.endswith("/models"):
            self._json(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": "gpt-4o-mini",
                            "object": "model",
                            "created": 0,
                            "owned_by": "bench",
                        }
                    ],
                },
            )
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found", "type": "invalid"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._json(400, {"error": {"message": "bad json", "type": "invalid"}})
            return
        Stats.requests += 1
        params = Params.from_body(body, self.default)
        model = str(body.get("model") or "gpt-4o-mini").encode()
        if not body.get("stream"):
            text = "".join(stamps.encode(stamps.now_us()) for _ in range(params.k))
            self._json(
                200,
                {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model.decode(),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": 20,
                        "completion_tokens": params.k,
                        "total_tokens": 20 + params.k,
                    },
                },
            )
            return
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.stream = _Stream(self, params, model, usage)
        self.stream.start()


async def serve(host: str, port: int, stop_after: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, host, port, backlog=4096)
    print(
        json.dumps({"port": server.sockets[0].getsockname()[1], "pid": os.getpid()}),
        flush=True,
    )
    # Bounded in time: the orchestrator kills it long before this.
    await asyncio.sleep(stop_after)
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--first", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the bench endpoint serves loopback only")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    Upstream.default = Params(args.k, args.rate, args.first, 1)
    try:
        asyncio.run(serve(args.host, args.port, args.max_seconds))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
