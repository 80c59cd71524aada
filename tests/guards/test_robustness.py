"""Hostile frames and bodies over the real ASGI app: deep or huge JSON is a typed
error without a traceback, repeated failures are logged once with a count, and the
Origin check compares scheme, host and port."""

import logging
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat import turns
from chat.guards.json_limits import loads_limited, nesting_depth
from chat.guards.output_filter import StreamFilter
from chatproject.asgi import application
from tests.ws import connect, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = "[" * 10_000


def test_nesting_depth_ignores_brackets_inside_strings():
    assert nesting_depth('{"a": "[[[[[[[[", "b": [1, [2]]}') == 3
    assert nesting_depth('"\\"[[[" ') == 0


def test_loads_limited_refuses_depth_before_parsing():
    with pytest.raises(Exception) as info:
        loads_limited(DEEP, max_bytes=65536)
    assert info.value.code == "invalid" and "nested" in info.value.message
    assert loads_limited('{"a": [[1]]}', max_bytes=100) == {"a": [[1]]}
    with pytest.raises(Exception) as info:
        loads_limited('{"a": 1}', max_bytes=3)
    assert info.value.code == "too_long"


async def test_deep_json_frames_get_invalid_errors_and_no_traceback(user, caplog):
    comm = await connect(user)
    with caplog.at_level(logging.WARNING):
        for frame in (DEEP, '{"type": "send", "x": ' + DEEP + "}", "{" * 5000):
            await comm.send_to(text_data=frame)
            error = await comm.receive_json_from()
            assert error["type"] == "error" and error["code"] == "invalid"
    await comm.disconnect()
    assert not [r for r in caplog.records if r.exc_info]


async def test_repeated_failures_on_one_socket_are_logged_once_with_a_count(
    user, caplog, monkeypatch
):
    async def broken_stop(**kwargs):
        raise RuntimeError("stop store down")

    monkeypatch.setattr(turns, "turn_stop", broken_stop)
    comm = await connect(user)
    with caplog.at_level(logging.ERROR, logger="chat.consumers"):
        for _ in range(20):
            await comm.send_json_to({"type": "stop", "message": str(uuid.uuid4())})
            error = await comm.receive_json_from()
            assert error["code"] == "internal"
        await comm.disconnect()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    counts = [r.getMessage() for r in caplog.records if "repeated" in r.getMessage()]
    assert counts == [counts[0]] and "repeated 19 more times" in counts[0]


def test_deep_json_body_is_a_400_with_a_code(user):
    client = Client()
    client.force_login(user)
    for body in (DEEP, '{"content": ' + DEEP + "}"):
        response = client.post(
            "/api/chat/stream", data=body, content_type="application/json"
        )
        assert response.status_code == 400
        assert b'"code":"invalid"' in response.content


async def _handshake(headers, scope_extra=None):
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    if scope_extra:
        comm.scope.update(scope_extra)
    connected, _ = await comm.connect()
    await comm.disconnect()
    return connected


@pytest.mark.parametrize(
    ("origin", "host", "extra", "ok"),
    [
        (b"http://testserver", b"testserver", None, True),
        (b"http://testserver:80", b"testserver", None, True),
        (b"http://testserver:9999", b"testserver", None, False),
        (b"http://127.0.0.1:9999", b"127.0.0.1:8000", None, False),
        (b"http://127.0.0.1:8000", b"127.0.0.1:8000", None, True),
        (b"https://testserver", b"testserver", None, False),
        (b"https://testserver", b"testserver", {"scheme": "wss"}, True),
        (b"http://testserver", b"testserver", {"scheme": "wss"}, False),
        (b"http://evil.example", b"testserver", None, False),
        (b"http://testserver:notaport", b"testserver", None, False),
        (b"null", b"testserver", None, False),
    ],
)
async def test_origin_must_match_scheme_host_and_port(
    user, settings, origin, host, extra, ok
):
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    headers = [(b"origin", origin), (b"host", host)]
    headers.append((b"cookie", await session_cookie(user)))
    assert await _handshake(headers, extra) is ok


async def test_trusted_origins_match_scheme_host_and_port(user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com:8443"]
    cookie = (b"cookie", await session_cookie(user))
    host = (b"host", b"testserver")
    assert await _handshake(
        [(b"origin", b"https://app.example.com:8443"), host, cookie]
    )
    assert not await _handshake([(b"origin", b"https://app.example.com"), host, cookie])
    assert not await _handshake(
        [(b"origin", b"http://app.example.com:8443"), host, cookie]
    )


async def test_proxy_https_header_sets_the_expected_scheme(user, settings):
    cookie = (b"cookie", await session_cookie(user))
    headers = [
        (b"origin", b"https://testserver"),
        (b"host", b"testserver"),
        (b"x-forwarded-proto", b"https"),
        cookie,
    ]
    assert await _handshake(headers)


def test_open_pem_block_is_scanned_a_bounded_number_of_times(monkeypatch):
    """The text an unterminated private key makes the filter scan grows linearly
    with the key's length (rescanning the held key per chunk was quadratic)."""
    scanned = []
    drain = StreamFilter._drain

    def counting(self, text, **options):
        scanned.append(len(text))
        return drain(self, text, **options)

    monkeypatch.setattr(StreamFilter, "_drain", counting)

    def run(lines: int) -> int:
        scanned.clear()
        out = StreamFilter(canary="cnry-0123456789ab")
        chunks = ["-----BEGIN RSA PRIVATE KEY-----\n"]
        chunks += ["MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n"] * lines
        shown = "".join(out.feed(chunk) for chunk in chunks) + out.finish()
        assert "MIIEow" not in shown
        return sum(scanned)

    assert run(400) <= 2.2 * run(200)
