"""An import over CHAT_IMPORT_MAX_BYTES is answered 413 by the ASGI application
before its body is read; other requests pass through untouched."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatproject.asgi import application

CHUNK = 64 * 1024


class Upload:
    """An ASGI client sending `size` bytes in chunks, counting what was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read = 0
        self.sent: list[dict] = []
        self.answered = asyncio.Event()

    async def receive(self) -> dict:
        if self.read >= self.size and self.size:
            # The whole body is sent: the client waits, then hangs up.
            await self.answered.wait()
            return {"type": "http.disconnect"}
        chunk = min(CHUNK, self.size - self.read)
        self.read += chunk
        return {
            "type": "http.request",
            "body": b" " * chunk,
            "more_body": self.read < self.size,
        }

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.answered.set()

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"].endswith(".start"))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if "body" in m)


def _scope(path: str, *, length: int | None, method: str = "POST") -> dict:
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("path", ["/api/conversations/import/", "/settings/data/"])
async def test_a_200_mb_import_is_refused_before_its_body_is_read(settings, path):
    settings.CHAT_IMPORT_MAX_BYTES = 10 * 2**20
    upload = Upload(200 * 2**20)
    await application(_scope(path, length=upload.size), upload.receive, upload.send)
    assert upload.status == 413
    assert json.loads(upload.body)["code"] == "too_long"
    assert upload.read == 0


async def test_a_body_without_a_length_is_cut_off_past_the_limit(settings):
    settings.CHAT_IMPORT_MAX_BYTES = 1 * 2**20
    upload = Upload(200 * 2**20)
    scope = _scope("/api/conversations/import/", length=None)
    await application(scope, upload.receive, upload.send)
    assert upload.status == 413
    assert upload.read < 2 * 2**20, "stopped soon after the limit"


async def test_a_small_import_and_other_requests_pass_through(settings):
    settings.CHAT_IMPORT_MAX_BYTES = 1 * 2**20
    upload = Upload(10)
    scope = _scope("/api/conversations/import/", length=10)
    await application(scope, upload.receive, upload.send)
    assert upload.status == 403, "reached Django, whose CSRF check refuses it"
    big = Upload(5 * 2**20)
    await application(_scope("/healthz", length=big.size), big.receive, big.send)
    assert big.status != 413
