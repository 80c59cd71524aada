"""Issue 19 in the browser: edit a middle message and see the new branch, flip
versions ‹ 1/2 › of a message and of a reply, and watch another tab follow."""

from __future__ import annotations

import pytest

from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

USERS = "#messages > .msg-user"
THREAD = """() => [...document.querySelectorAll("#messages > li")].map((li) =>
  li.classList.contains("msg-user")
    ? li.querySelector(".msg-text").textContent
    : `reply:${li.dataset.status}`)"""


@pytest.fixture(scope="module")
def tree_app(tmp_path_factory):
    with serve_app(
        tmp_path_factory.mktemp("tree_app"),
        LLM_BACKEND="demo",
        CHAT_DEMO_DELAY_MS="0",
        CHAT_RATE_LIMITS="1000/1m",
    ) as app:
        yield app


def turn(page, text: str) -> None:
    asked = page.locator(USERS).count()
    send(page, text)
    # Its start frame drew the question and the reply: only then is it the last.
    expect(page.locator(USERS)).to_have_count(asked + 1)
    _, final = watch_reply(page)
    assert final["status"] == "complete"


def regenerate(page) -> tuple[str, str]:
    """Regenerate the last reply; its old and new ids once the new one ended."""
    old = page.locator(LAST_REPLY).get_attribute("data-id")
    page.locator(LAST_REPLY).get_by_role("button", name="Regenerate reply").click()
    expect(page.locator(LAST_REPLY)).not_to_have_attribute("data-id", old)
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    return old, page.locator(LAST_REPLY).get_attribute("data-id")


def test_edit_a_middle_message_and_flip_versions(page, tree_app, screenshot_dir):
    log_in(page, tree_app)
    for text in ("first", "second", "third"):
        turn(page, text)
    done = ["first", "reply:complete", "second", "reply:complete"]
    assert page.evaluate(THREAD) == [*done, "third", "reply:complete"]

    # Edit the middle message from the keyboard: the editor opens focused.
    middle = page.locator(USERS).nth(1)
    middle.get_by_role("button", name="Edit message").click()
    editor = middle.get_by_label("Edit your message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("second")
    editor.press("Escape")  # Cancel leaves it as it was
    expect(middle.locator(".msg-editor")).to_have_count(0)
    expect(middle.locator(".msg-text")).to_be_visible()
    middle.get_by_role("button", name="Edit message").click()
    editor = middle.get_by_label("Edit your message")
    editor.fill("second, edited")
    page.screenshot(path=screenshot_dir / "60-editing.png")
    editor.press("Control+Enter")

    # The new branch: what came before stays, the rest gives way to the new reply.
    expect(page.locator("#messages > li")).to_have_count(4)
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    branch = ["first", "reply:complete", "second, edited", "reply:complete"]
    assert page.evaluate(THREAD) == branch
    edited = page.locator(USERS).nth(1)
    expect(edited.locator(".msg-versions-label")).to_have_text("2/2")
    expect(page.locator(USERS).first.locator(".msg-versions")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "61-edited-branch.png")

    # ‹ back to version 1: the old branch, whole.
    edited.get_by_role("button", name="Previous version").click()
    expect(page.locator("#messages > li")).to_have_count(6)
    assert page.evaluate(THREAD) == [*done, "third", "reply:complete"]
    old = page.locator(USERS).nth(1)
    expect(old.locator(".msg-versions-label")).to_have_text("1/2")
    expect(old.get_by_role("button", name="Previous version")).to_be_disabled()
    # › forward again, and the choice survives a reload.
    old.get_by_role("button", name="Next version").click()
    expect(page.locator("#messages > li")).to_have_count(4)
    page.reload()
    expect(page.locator("#messages > li")).to_have_count(4)
    assert page.evaluate(THREAD) == branch

    # Regenerate: the old reply stays, as version 1 of 2 of the reply.
    first_reply, _ = regenerate(page)
    reply = page.locator(LAST_REPLY)
    expect(reply.locator(".msg-versions-label")).to_have_text("2/2")
    reply.get_by_role("button", name="Previous version").click()
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-id", first_reply)
    expect(page.locator(f"{LAST_REPLY} .msg-versions-label")).to_have_text("1/2")
    page.screenshot(path=screenshot_dir / "62-reply-versions.png")


def test_another_tab_follows_a_version_switch(page, tree_app):
    log_in(page, tree_app)
    turn(page, "only question")
    oldest, newest = regenerate(page)

    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(other.locator(LAST_REPLY)).to_have_attribute("data-id", newest)

    page.locator(LAST_REPLY).get_by_role("button", name="Previous version").click()
    expect(page.locator(f"{LAST_REPLY} .msg-versions-label")).to_have_text("1/2")
    # Live, through the other tab's socket: no reload.
    expect(other.locator(f"{LAST_REPLY} .msg-versions-label")).to_have_text("1/2")
    expect(other.locator(LAST_REPLY)).to_have_attribute("data-id", oldest)
    other.close()
