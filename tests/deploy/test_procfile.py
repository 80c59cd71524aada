"""The Procfile's `web` command, started by honcho with production config vars,
serves a user end to end: log in, a chat turn over the WebSocket, hashed static
files with far-future caching, and the security headers."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

import httpx
import pytest
import websockets

from tests.deploy import client
from tests.deploy.client import ROUTER, User, set_cookie
from tests.deploy.conftest import dynos_running
from tests.servers.fake_openai import Reply

# The limit counts each test; fixtures bound each of their own steps.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(60, func_only=True),
]

OPERATOR = "operator"


@pytest.fixture(scope="module")
def web(slug, config, tmp_path_factory):
    """One web dyno for the module's tests (none of them stops it)."""
    with dynos_running(slug, config, tmp_path_factory.mktemp("web"), 1) as (dyno,):
        yield dyno


@pytest.fixture(scope="module")
def operator_password(slug, config) -> str:
    """The first account, made in a one-off dyno (`heroku run`) as documented."""
    password = secrets.token_urlsafe(16)
    slug.run(
        "python manage.py createsuperuser --noinput "
        f"--username {OPERATOR} --email ops@example.com",
        config,
        DJANGO_SUPERUSER_PASSWORD=password,
    )
    return password


async def test_user_logs_in_and_completes_a_chat_turn(
    web, fake_llm, operator_password, database
):
    """Login over the router's HTTPS, then one turn streams from the provider."""
    fake_llm.enqueue(Reply(tokens=["Deployed", " and", " streaming."], delay=0.02))
    user = User(OPERATOR, operator_password)
    login_page = user.get(web, "/accounts/login/")
    assert "secure" in set_cookie(login_page, "csrftoken").split("; ")
    user.login(web)

    async with user.socket(web) as ws:
        hello = await client.hello(ws)
        assert hello["user"] == OPERATOR
        assert hello["demo"] is False and hello["model"] == "gpt-4o-mini"
        client_id = await client.send(ws, "Are you deployed?")
        start, _ = await client.until(ws, "start")
        assert start["id"] == client_id
        text, end, _ = await client.reply(ws)

    assert text == "Deployed and streaming."
    assert end["status"] == "complete" and end["content"] == text
    request = fake_llm.last_request
    assert request.headers["authorization"] == "Bearer test"
    assert request.body["model"] == "gpt-4o-mini" and request.stream
    rows = database.query(
        "SELECT status, content FROM chat_message WHERE id = %s", start["message"]
    )
    assert rows == [("complete", text)]


def test_session_cookie_is_secure_and_http_only(web, operator_password):
    """Behind the router the session cookie is Secure, HttpOnly and SameSite."""
    user = User(OPERATOR, operator_password)
    answer = user.submit(
        web, "/accounts/login/", {"login": OPERATOR, "password": operator_password}
    )
    flags = set_cookie(answer, "sessionid").split("; ")
    assert {"secure", "httponly", "samesite=lax"} <= set(flags), flags


def test_page_has_security_headers_and_a_csp_nonce(web, operator_password):
    """HSTS, a nonce-based CSP that the page's script carries, no framing, no
    sniffing, a strict referrer policy."""
    user = User(OPERATOR, operator_password).login(web)
    page = user.get(web, "/")
    assert page.status_code == 200
    headers = page.headers
    hsts = headers["strict-transport-security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    csp = headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert re.search(r"script-src 'self' 'nonce-", csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert f'nonce="{nonce}"' in page.text
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    # A second load gets a fresh nonce.
    again = user.get(web, "/").headers["content-security-policy"]
    assert again != csp


def test_hashed_static_file_is_compressed_and_cached_for_ever(web, slug):
    """collectstatic's hashed names are served by WhiteNoise with immutable,
    far-future caching and compression; the page links the hashed name."""
    manifest = slug.manifest()
    assert manifest, "collectstatic wrote an empty manifest"
    name = "chat/app.css" if "chat/app.css" in manifest else sorted(manifest)[0]
    hashed = manifest[name]
    assert hashed != name

    answer = httpx.get(
        f"{web.url}/static/{hashed}",
        headers={**ROUTER, "Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert answer.status_code == 200
    cache = answer.headers["cache-control"]
    assert "immutable" in cache and "public" in cache
    assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 24 * 3600
    if name.endswith((".css", ".js")):
        assert answer.headers.get("content-encoding") == "gzip"

    login_page = httpx.get(f"{web.url}/accounts/login/", headers=ROUTER, timeout=10)
    if name == "chat/app.css":
        assert f"/static/{hashed}" in login_page.text


def test_plain_http_is_redirected_to_https(web):
    """Without the router's header the app redirects to HTTPS (no relaxed
    SECURE_SSL_REDIRECT); the health checks stay reachable for the platform."""
    answer = httpx.get(f"{web.url}/accounts/login/", timeout=10)
    assert answer.status_code == 301
    assert answer.headers["location"].startswith("https://127.0.0.1")
    assert httpx.get(f"{web.url}/healthz", timeout=10).status_code == 200
    ready = httpx.get(f"{web.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text  # PostgreSQL and Redis answer


async def test_socket_from_a_foreign_origin_is_refused(web, operator_password):
    """The WebSocket handshake checks Origin against ALLOWED_HOSTS."""
    user = User(OPERATOR, operator_password).login(web)
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            web.ws_url,
            origin="https://evil.example",
            additional_headers={
                **ROUTER,
                "Cookie": f"sessionid={user.cookies['sessionid']}",
            },
            open_timeout=10,
        ):
            pass
    assert refused.value.response.status_code == 403


def test_web_process_is_daphne_itself(web):
    """The Procfile execs daphne (on uvloop; with one process the supervisor execs
    it too), so the platform's SIGTERM reaches the server and not a shell that
    would die at once and leave it orphaned."""
    cmdline = Path(f"/proc/{web.web_pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[1:3] == [b"-m", b"chatproject.daphne_uvloop"], cmdline
    assert b"--proxy-headers" in cmdline and b"65536" in cmdline


async def test_oversized_frame_closes_the_socket(web, operator_password):
    """daphne enforces the Procfile's --websocket-max-message-size itself: the
    socket is dropped. (Its library drops the connection, so the client sees 1006
    rather than the 1009 docs/protocol.md promises; see docs/deploy.md.)"""
    user = User(OPERATOR, operator_password).login(web)
    async with client.sockets(user, web) as (ws,):
        await ws.send("x" * 70_000)
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
    assert ws.close_code in (1006, 1009)


async def test_idle_socket_stays_open_and_usable(web, fake_llm, operator_password):
    """A socket with nothing to say for longer than the channel layer's 5-second
    Redis block (BZPOPMIN) stays open, then chats (redis-py 8's default 5-second
    read timeout used to crash such consumers with 1011)."""
    user = User(OPERATOR, operator_password).login(web)
    async with client.sockets(user, web) as (ws,):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(12):
                await ws.recv()  # nothing comes, and the socket must stay open
        await client.send(ws, "Still there?")
        text, end, _ = await client.reply(ws)
    assert end["status"] == "complete" and text


def secrets_stay_out_of_the_access_log(dyno) -> None:
    """Requests whose URLs hold secrets leave their access log lines, redacted."""
    secret = secrets.token_urlsafe(24)
    for path in (
        f"/accounts/invite/{secret}/",
        f"/accounts/password/reset/key/1-{secret}/",
        f"/accounts/oidc/corp/login/callback/?code={secret}&state={secret}",
    ):
        httpx.get(f"{dyno.url}{path}", headers=ROUTER, timeout=10)
    wanted = (
        "GET /accounts/invite/[redacted]/",
        "GET /accounts/password/reset/key/[redacted]/",
        "callback/?code=[redacted]&state=[redacted]",
    )
    for _ in range(50):
        log = dyno.log_path.read_text(errors="replace")
        if all(line in log for line in wanted):
            break
        time.sleep(0.1)
    assert all(line in log for line in wanted), dyno.log_tail()
    assert secret not in log


def test_the_access_log_keeps_secrets_in_urls_out(web):
    """daphne's access log goes through the app's JSON handler: a password-reset
    key, an invitation token, an OIDC callback's code and state never reach the
    web process's log, while the line for each request is there."""
    secrets_stay_out_of_the_access_log(web)
    assert '"logger": "daphne.access"' in web.log_path.read_text(errors="replace")
