"""Feedback and share links in Chromium against the demo model: thumbs with a
comment that survive a reload; a share link made in the dialog, opened in a fresh
context (no login), frozen at share time, revoked; continue-this-chat after
logging in; an import from the "Your data" page; and a 200 MB upload refused by
a real server before its body is sent."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import (
    REPO,
    REPORT_CSP_VIOLATIONS,
    _free_port,
    _wait_until_serving,
)
from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser


def _fresh(browser, errors: list[str]):
    """A new context: no cookies, so nobody is logged in."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page


def test_thumbs_and_a_comment_are_kept_across_a_reload(page, page_app):
    log_in(page, page_app)
    send(page, "Rate this reply please")
    watch_reply(page)
    reply = page.locator(LAST_REPLY)
    good = reply.get_by_role("button", name="Good reply")
    bad = reply.get_by_role("button", name="Bad reply")
    expect(good).to_have_attribute("aria-pressed", "false")
    good.click()
    expect(good).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#announcer")).to_have_text("Rated as good.")
    comment = reply.get_by_label("Why? (optional)")
    expect(comment).to_be_focused()
    comment.fill("clear and short")
    reply.get_by_role("button", name="Send").click()
    expect(page.locator("#announcer")).to_have_text("Thanks for the feedback.")
    expect(comment).to_have_count(0)

    page.reload()
    reply = page.locator(LAST_REPLY)
    expect(reply.get_by_role("button", name="Good reply")).to_have_attribute(
        "aria-pressed", "true"
    )
    bad = reply.get_by_role("button", name="Bad reply")
    bad.click()
    expect(bad).to_have_attribute("aria-pressed", "true")
    expect(reply.get_by_role("button", name="Good reply")).to_have_attribute(
        "aria-pressed", "false"
    )
    bad.click()  # pressed again: taken back
    expect(bad).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#announcer")).to_have_text("Rating removed.")


def test_a_share_link_opens_in_a_fresh_context_frozen_then_revoked(
    page, page_app, browser, screenshot_dir
):
    log_in(page, page_app)
    share = page.get_by_role("button", name="Share", exact=True)
    expect(share).to_have_attribute("aria-disabled", "true")
    send(page, "Something worth sharing")
    watch_reply(page)
    first_reply = page.locator(LAST_REPLY).locator(".msg-content").inner_text()
    expect(share).to_have_attribute("aria-disabled", "false")
    share.click()
    dialog = page.get_by_role("dialog", name="Share this conversation")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#share-state")).to_have_text("Not shared yet.")
    dialog.get_by_role("button", name="Create link").click()
    url_box = dialog.get_by_label("Link")
    expect(url_box).to_have_value(re.compile(r"/share/[A-Za-z0-9_-]{43}/$"))
    url = url_box.input_value()
    page.screenshot(path=screenshot_dir / "share-dialog.png")
    dialog.get_by_role("button", name="Close").click()

    # Said after sharing: not in the snapshot.
    send(page, "A later question, not shared")
    watch_reply(page)

    errors: list[str] = []
    context, reader = _fresh(browser, errors)
    try:
        response = reader.goto(url)
        assert response.status == 200
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        expect(reader.locator('meta[name="robots"]')).to_have_attribute(
            "content", "noindex, nofollow"
        )
        expect(reader.locator("#messages > .msg-user")).to_have_count(1)
        expect(reader.locator("#messages > .msg-user")).to_contain_text(
            "Something worth sharing"
        )
        shown = reader.locator("#messages > .msg-assistant .msg-content")
        expect(shown).to_have_count(1)
        # The chat page labels code blocks ("python", "Copy"); the text is the same.
        said = " ".join(shown.inner_text().split())
        assert said[:60] == " ".join(first_reply.split())[:60]
        assert 'print("tokens stream over a WebSocket")' in said
        expect(reader.get_by_text("A later question")).to_have_count(0)
        expect(reader.get_by_text("browser-user")).to_have_count(0)
        reader.screenshot(path=screenshot_dir / "share-page.png", full_page=True)

        # Continue this chat: log in, come back, copy it into the account.
        reader.get_by_role("link", name="Log in to continue this chat").click()
        reader.get_by_label("Username").fill(page_app[1])
        reader.get_by_label("Password").fill(page_app[2])
        reader.get_by_role("button", name="Log in").click()
        expect(reader).to_have_url(url)
        reader.get_by_role("button", name="Continue this chat").click()
        expect(reader).to_have_url(re.compile(r"/\?c=[0-9a-f-]{36}$"))
        expect(reader.locator("#messages > .msg-user")).to_have_count(1)
        expect(reader.locator("#messages > .msg-user")).to_contain_text(
            "Something worth sharing"
        )
    finally:
        context.close()

    page.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.locator("#share-state")).to_contain_text("Shared on")
    dialog.get_by_role("button", name="Revoke link").click()
    expect(dialog.locator("#share-state")).to_have_text(
        "Link revoked: it no longer works."
    )
    context, reader = _fresh(browser, errors)
    try:
        response = reader.goto(url)
        assert response.status == 410
        expect(reader.get_by_role("heading", level=1)).to_have_text(
            "This link was revoked"
        )
    finally:
        context.close()
    # The 410 page logs the failed load; nothing else may have failed.
    assert [e for e in errors if "410" not in e] == []


def test_the_data_page_imports_a_chatgpt_export(page, page_app, tmp_path):
    from tests.transfer.test_transfer import CHATGPT

    log_in(page, page_app)
    page.get_by_role("link", name="Your data", exact=True).click()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    page.get_by_label("File to import").set_input_files(str(CHATGPT))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Imported 2 conversations.")
    page.get_by_role("link", name="Back to chat").click()
    expect(
        page.locator("#conversation-list").get_by_text("Three days in Paris")
    ).to_be_visible()


@pytest.fixture
def uvicorn_app(tmp_path):
    """The app under uvicorn, which hands a request to the application as soon as
    its headers arrive (daphne buffers the whole body first: docs/deploy.md)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatproject.settings",
        "DEBUG": "1",
        "CHAT_CREATE_LOCAL_USER": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LLM_BACKEND": "demo",
        "CHAT_IMPORT_MAX_BYTES": str(10 * 2**20),
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "chatproject.asgi:application"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base_url}/healthz", process, log)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_200_mb_upload_is_refused_before_its_body_is_sent(uvicorn_app):
    """The server answers 413 to the headers and a first kilobyte; the rest of
    the 200 MB is never sent."""
    address = urlsplit(uvicorn_app)
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=10) as s:
        s.sendall(
            b"POST /api/conversations/import/ HTTP/1.1\r\n"
            + f"Host: {address.netloc}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {200 * 2**20}\r\n\r\n".encode()
            + b"[" * 1024
        )
        answer = b""
        while b'"too_long"' not in answer and (chunk := s.recv(4096)):
            answer += chunk
        answer = answer.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"too_long"' in answer
    assert time.monotonic() - started < 5
