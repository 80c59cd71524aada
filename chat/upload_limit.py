"""Imports refused by size before their body is read.

Django's ASGI handler reads a request's whole body (to memory, then a temporary
file) before any middleware or view runs, so a view cannot refuse a 200 MB upload
early. This ASGI wrapper answers 413 at once when the declared length of a POST
to an import URL is over CHAT_IMPORT_MAX_BYTES (plus room for the form's
envelope), and stops reading a body sent without a length once it passes it."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse

# A multipart form wraps the file in boundaries and headers.
ENVELOPE_BYTES = 64 * 1024
IMPORT_URLS = ("chat:conversation-import", "chat:data-settings")


class _TooLarge(Exception):
    pass


def body_limit() -> int:
    """The most an import request may carry, envelope included."""
    return settings.CHAT_IMPORT_MAX_BYTES + ENVELOPE_BYTES


def _is_import(scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    return scope.get("path") in {reverse(name) for name in IMPORT_URLS}


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send) -> None:
    limit = settings.CHAT_IMPORT_MAX_BYTES
    body = json.dumps(
        {"code": "too_long", "message": f"The file is larger than {limit:,} bytes."}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ImportSizeLimit:
    """ASGI middleware: 413 for an import over the limit, before Django reads it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if not _is_import(scope):
            return await self.app(scope, receive, send)
        limit = body_limit()
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await _refuse(send)
