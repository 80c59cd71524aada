"""Issue 6 in the browser: the last reply offers Regenerate (and, when it was cut
short, Continue); a regenerated reply takes the old one's place, a continuation
reads as the rest of the reply it carries on, and a reload shows the same."""

from __future__ import annotations

import pytest

from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

REPLIES = "#messages > .msg-assistant"
STREAMED_A_BIT = (
    "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
    "?.innerText.trim().length > 20"
)
THREAD = """() => [...document.querySelectorAll("#messages > li")].map((li) =>
  li.classList.contains("msg-user") ? "user"
    : li.classList.contains("msg-continuation") ? `continuation:${li.dataset.status}`
    : `reply:${li.dataset.status}`)"""


@pytest.fixture(scope="module")
def redo_app(tmp_path_factory):
    """The demo model, slow enough to be stopped mid-reply."""
    with serve_app(
        tmp_path_factory.mktemp("redo_app"),
        LLM_BACKEND="demo",
        CHAT_DEMO_DELAY_MS="30",
    ) as app:
        yield app


def stop_mid_reply(page) -> None:
    page.wait_for_function(STREAMED_A_BIT)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "cancelled")


def test_stopped_reply_can_be_regenerated_and_continued(page, redo_app, screenshot_dir):
    log_in(page, redo_app)
    send(page, "First question")
    _, first = watch_reply(page)
    assert first["status"] == "complete"
    last = page.locator(LAST_REPLY)
    expect(last.get_by_role("button", name="Regenerate reply")).to_be_enabled()
    expect(last.get_by_role("button", name="Continue reply")).to_have_count(0)

    send(page, "Tell me everything about streams")
    expect(page.locator(".msg-actions")).to_have_count(0)  # nothing while it streams
    stop_mid_reply(page)
    expect(page.locator(".msg-actions")).to_have_count(1)  # only on the last reply
    regenerate = last.get_by_role("button", name="Regenerate reply")
    expect(last.get_by_role("button", name="Continue reply")).to_be_enabled()
    expect(regenerate).to_be_enabled()
    page.screenshot(path=screenshot_dir / "30-stopped-with-redo.png")
    page.set_viewport_size({"width": 375, "height": 740})
    last.locator(".msg-actions").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "30-stopped-with-redo-phone.png")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Regenerate (from the keyboard): the stopped reply's place is taken.
    stopped_id = last.get_attribute("data-id")
    regenerate.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'[data-id="{stopped_id}"]')).to_have_count(0)
    expect(page.locator(REPLIES)).to_have_count(2)
    assert page.evaluate(THREAD)[:3] == ["user", "reply:complete", "user"]
    stop_mid_reply(page)
    stopped_text = page.locator(f"{LAST_REPLY} .msg-content").inner_text().strip()
    assert stopped_text

    # Continue: more text right after it, no question in between.
    page.locator(LAST_REPLY).get_by_role("button", name="Continue reply").click()
    continuation = page.locator(f"{REPLIES}.msg-continuation")
    expect(continuation).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelector('.msg-continuation .msg-content')"
        "?.innerText.trim().length > 20"
    )
    page.screenshot(path=screenshot_dir / "31-continuing.png")
    _, final = watch_reply(page)
    assert final["status"] == "complete" and final["text"]
    thread = ["user", "reply:complete", "user", "reply:cancelled"]
    thread.append("continuation:complete")
    assert page.evaluate(THREAD) == thread
    continued = page.locator(f"{REPLIES}.is-continued")
    expect(continued.locator(".msg-content")).to_have_text(stopped_text)
    expect(continued.locator(".msg-footer")).to_be_hidden()
    expect(continuation.get_by_role("button", name="Regenerate reply")).to_be_enabled()
    expect(continuation.get_by_role("button", name="Continue reply")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "32-continued.png")

    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#messages > li")).to_have_count(5)
    assert page.evaluate(THREAD) == thread
    expect(continued.locator(".msg-content")).to_have_text(stopped_text)
    expect(page.locator(".msg-actions")).to_have_count(1)
    expect(continuation.get_by_role("button", name="Regenerate reply")).to_be_enabled()

    page.set_viewport_size({"width": 375, "height": 740})
    continuation.locator(".msg-actions").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "33-continued-phone.png")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Regenerating a continued reply replaces all of it with one new reply.
    continuation.get_by_role("button", name="Regenerate reply").click()
    expect(continuation).to_have_count(0)
    expect(page.locator(f"{REPLIES}.is-continued")).to_have_count(0)
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    regenerated = ["user", "reply:complete", "user", "reply:complete"]
    assert page.evaluate(THREAD) == regenerated
    page.reload()
    expect(page.locator("#messages > li")).to_have_count(4)
    assert page.evaluate(THREAD) == regenerated


def test_a_refused_redo_is_explained_and_keeps_the_reply(page, redo_app):
    log_in(page, redo_app)
    send(page, "Answer me")
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    reply_id = page.locator(LAST_REPLY).get_attribute("data-id")
    # As if the reply had been deleted in another tab: the server refuses.
    page.evaluate(
        "(id) => document.querySelector(`[data-id='${id}']`).dataset.id ="
        " crypto.randomUUID()",
        reply_id,
    )
    page.locator(LAST_REPLY).get_by_role("button", name="Regenerate reply").click()
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner-text")).to_contain_text("does not exist")
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "complete")
    expect(
        page.locator(LAST_REPLY).get_by_role("button", name="Regenerate reply")
    ).to_be_enabled()
