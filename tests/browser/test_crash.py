"""Never erase what the user saw: the serving process dies mid-reply (SIGKILL) and
comes back on the same address; the page reconnects, learns the reply was
interrupted, keeps every character it showed and offers Continue on it, and
Continue carries the reply on. With Redis, the server stored at least the text
that was shown (the reply's stream holds every chunk sent); on the embedded
default, the checkpoint of at most a second before the crash."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.browser.conftest import (
    PASSWORD,
    REPO,
    USERNAME,
    _free_port,
    _manage,
    _wait_until_serving,
)
from tests.browser.test_chat_page import LAST_REPLY, log_in, send
from tests.conftest import need_service

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

SHOWN = """() => document.querySelector(
  "#messages > .msg-assistant:last-child .msg-content")?.innerText.trim() ?? ""
"""


class Daphne:
    """A daphne on a fixed port over one SQLite database, that can be killed."""

    def __init__(self, workdir, redis_url: str = ""):
        self.port = _free_port()
        self.log = workdir / "daphne.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "chatproject.settings",
            "DEBUG": "1",
            "CHAT_CREATE_LOCAL_USER": "0",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            "PYTHONUNBUFFERED": "1",
            "LLM_BACKEND": "demo",
            "CHAT_DEMO_DELAY_MS": "40",
        }
        self.env.pop("REDIS_URL", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.process = None
        self.mode = "redis" if redis_url else "embedded"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1"]
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [*command, "-p", str(self.port), "chatproject.asgi:application"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until_serving(f"{self.url}/healthz", self.process, self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(params=["embedded", "redis"])
def daphne(request, tmp_path):
    redis_url = ""
    if request.param == "redis":
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url:
            need_service("REDIS_URL is not set")
    server = Daphne(tmp_path, redis_url)
    _manage("migrate", "--noinput", env=server.env)
    _manage(
        "createsuperuser",
        "--noinput",
        f"--username={USERNAME}",
        "--email=crash@example.invalid",
        env=server.env,
    )
    server.start()
    yield server
    server.stop()


def stored_reply(page, base_url: str) -> dict:
    """The interrupted reply as the server stored it."""
    conversation = re.search(r"[?&]c=([0-9a-f-]+)", page.url).group(1)
    detail = page.request.get(f"{base_url}/api/conversations/{conversation}/")
    replies = [m for m in detail.json()["messages"] if m["role"] == "assistant"]
    return replies[0]


def test_a_crash_mid_reply_keeps_every_character_shown(
    daphne, page, screenshot_dir, console_errors
):
    # `daphne` before `page`: the page closes (and checks its console) while the
    # server still runs, so its socket never logs a refused reconnection then.
    log_in(page, (daphne.url, USERNAME, PASSWORD))
    send(page, "Tell me a long story " + "about streams " * 10)
    # Two seconds of text at 40 ms a token: past the first checkpoint (at most a
    # second apart without Redis), well before the reply's end.
    page.wait_for_function(f"() => ({SHOWN})().length > 200")
    daphne.kill()
    shown = page.evaluate(SHOWN)
    daphne.start()

    reply = page.locator(LAST_REPLY)
    expect(reply).to_have_attribute("data-status", "interrupted", timeout=30_000)
    kept = page.evaluate(SHOWN)
    assert kept.startswith(shown[:-1]), "the page erased text it had shown"
    assert len(kept) >= len(shown) - 1
    expect(reply.locator(".msg-status")).to_have_text("Interrupted")
    expect(reply.get_by_role("button", name="Continue reply")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"50-after-crash-{daphne.mode}.png")

    stored = stored_reply(page, daphne.url)
    assert stored["status"] == "interrupted"
    if daphne.mode == "redis":
        # Rendered from what the server stored, the reply reads at least as far.
        page.reload()
        expect(reply).to_have_attribute("data-status", "interrupted")
        from_server = page.evaluate(SHOWN)
        assert from_server.startswith(shown[:-1]), "the server lost shown text"
        assert len(from_server) >= len(shown) - 1
    else:
        # The checkpoint, at most a second old: most of the text the page showed.
        assert stored["content"].startswith("This is the **demo model**")
        assert len(stored["content"]) >= 40

    reply.get_by_role("button", name="Continue reply").click()
    continuation = page.locator("#messages > .msg-continuation")
    expect(continuation).to_have_attribute("data-status", "complete", timeout=30_000)
    expect(continuation.locator(".msg-content")).not_to_be_empty()
    assert page.evaluate(SHOWN) != ""
    first = page.locator("#messages > .msg-assistant").first.locator(".msg-content")
    assert first.inner_text().startswith(kept[:40])
    # The browser logs each refused reconnection while the server is down.
    refused = [e for e in console_errors if "ERR_CONNECTION_REFUSED" in e]
    for error in refused:
        console_errors.remove(error)
