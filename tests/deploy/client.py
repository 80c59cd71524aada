"""A user's browser behind a platform router: plain HTTP to the dyno with the
router's `X-Forwarded-Proto: https`, and cookies kept by hand, since the session
and CSRF cookies are Secure and an HTTP client would not send them over http://.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from http.cookies import SimpleCookie

import httpx
import websockets

from tests.deploy.dyno import Dyno

ROUTER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class User:
    """A logged-in browser session on a deployed app."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.cookies: dict[str, str] = {}

    def get(self, dyno: Dyno, path: str, **headers: str) -> httpx.Response:
        return self.request("GET", dyno, path, headers=headers)

    def submit(self, dyno: Dyno, path: str, fields: dict) -> httpx.Response:
        """Fill in the form at `path` and post it, with its CSRF token and the
        Origin a browser sends."""
        page = self.get(dyno, path)
        assert page.status_code == 200, (path, page.status_code)
        token = CSRF_INPUT.search(page.text).group(1)
        return self.request(
            "POST",
            dyno,
            path,
            data={**fields, "csrfmiddlewaretoken": token},
            headers={"Origin": f"https://127.0.0.1:{dyno.port}"},
        )

    def login(self, dyno: Dyno) -> User:
        """Log in through the form, as the page does; keeps the session cookie."""
        answer = self.submit(
            dyno,
            "/accounts/login/",
            {"login": self.username, "password": self.password},
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        assert "sessionid" in self.cookies, answer.headers
        return self

    def request(self, method, dyno, path, *, headers=None, data=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent = {**ROUTER, **(headers or {})}
        if cookie:
            sent["Cookie"] = cookie
        response = httpx.request(
            method, dyno.url + path, headers=sent, data=data, timeout=10
        )
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response

    def socket(self, dyno: Dyno):
        """The chat WebSocket, with the page's Origin and the session cookie."""
        return websockets.connect(
            dyno.ws_url,
            origin=f"https://127.0.0.1:{dyno.port}",
            additional_headers={
                **ROUTER,
                "Cookie": f"sessionid={self.cookies['sessionid']}",
            },
            open_timeout=10,
        )


async def receive(ws, within: float = 10.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), within))


async def hello(ws) -> dict:
    frame = await receive(ws)
    assert frame["type"] == "hello", frame
    return frame


@contextlib.asynccontextmanager
async def sockets(user: User, *dynos: Dyno):
    """One chat socket of `user` on each dyno, each past its hello frame."""
    async with contextlib.AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(user.socket(d)) for d in dynos]
        for ws in opened:
            await hello(ws)
        yield opened


async def send(ws, content: str, conversation: str | None = None) -> str:
    """Ask for a reply; the client-made id."""
    client_id = str(uuid.uuid4())
    await ws.send(
        json.dumps(
            {
                "type": "send",
                "id": client_id,
                "conversation": conversation,
                "content": content,
            }
        )
    )
    return client_id


async def join(ws, message_id: str, after: int = 0) -> None:
    """Follow a reply from chunk `after` on (a reload, another tab or process)."""
    await ws.send(json.dumps({"type": "join", "message": message_id, "after": after}))


async def until(ws, kind: str, within: float = 10.0) -> tuple[dict, list[dict]]:
    """Frames up to the first of type `kind`, each within `within` seconds:
    (that frame, the ones before)."""
    seen: list[dict] = []
    while True:
        frame = await receive(ws, within)
        if frame["type"] == kind:
            return frame, seen
        seen.append(frame)


async def reply(ws, within: float = 15.0) -> tuple[str, dict, list[dict]]:
    """Follow one reply to its end: (text from deltas, end frame, deltas)."""
    end, frames = await until(ws, "end", within)
    deltas = [frame for frame in frames if frame["type"] == "delta"]
    errors = [frame for frame in frames if frame["type"] == "error"]
    assert not errors, errors
    return "".join(frame["text"] for frame in deltas), end, deltas


def set_cookie(response: httpx.Response, name: str) -> str:
    """The Set-Cookie header for cookie `name`, lower-cased ("" if none)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header.lower()
    return ""
