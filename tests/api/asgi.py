"""Requests through the project's real ASGI application, in process.

Django's AsyncClient runs the sync middleware on asgiref's one shared thread, where
a reply task (which starts in a fresh context, as in production) would queue its
database writes behind the very request that waits for it; the ASGI handler gives
each request an executor of its own, as daphne does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from channels.testing import HttpCommunicator
from django.core.handlers.asgi import ASGIHandler

# Seconds to wait for each message of the response.
WAIT = 10


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> dict:
        return json.loads(self.content)

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]


async def request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict | None = None,
) -> Response:
    raw = [(b"host", b"testserver")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        raw.append((b"content-type", b"application/json"))
        raw.append((b"content-length", str(len(body)).encode()))
    # A handler per request: middleware reads settings when it is made.
    comm = HttpCommunicator(ASGIHandler(), method, path, body=body, headers=raw)
    await comm.send_input({"type": "http.request", "body": body})
    start = await comm.receive_output(WAIT)
    content = b""
    while True:
        # A streamed response ends with a message that may carry no body at all.
        chunk = await comm.receive_output(WAIT)
        content += chunk.get("body", b"")
        if not chunk.get("more_body", False):
            break
    return Response(
        start["status"],
        {k.decode().lower(): v.decode() for k, v in start.get("headers", [])},
        content,
    )
