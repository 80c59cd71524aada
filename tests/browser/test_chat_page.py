"""The chat page in Chromium against a live daphne with the demo model: log in,
stream a reply, stop one, reload into the history, and the small-screen layout.

Screenshots land in test-results/browser/ for a person to look at."""

from __future__ import annotations

import re
import time

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

LAST_REPLY = "#messages > .msg-assistant:last-child"
REPLY_STATE = """() => {
  const item = document.querySelector("#messages > .msg-assistant:last-child");
  if (!item) return null;
  return {
    streaming: item.classList.contains("is-streaming"),
    status: item.dataset.status || null,
    text: item.querySelector(".msg-content").innerText.trim(),
  };
}"""


def send(page, text: str) -> None:
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(text)
    prompt.press("Enter")


def watch_reply(page, *, shot=None, timeout: float = 30) -> tuple[list[str], dict]:
    """Poll the last reply: each distinct text rendered while it streamed, and its
    state once the end frame has been rendered."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(REPLY_STATE)
        if state and state["status"]:
            return seen, state
        if state and state["streaming"] and state["text"]:
            if not seen or seen[-1] != state["text"]:
                seen.append(state["text"])
                if shot and len(seen) == 12:
                    page.screenshot(path=shot)
        time.sleep(0.015)
    raise AssertionError(f"the reply did not end within {timeout} s; saw {seen[-1:]}")


def test_reply_streams_in_and_ends_rendered(page, live_app, screenshot_dir):
    log_in(page, live_app)
    expect(page.get_by_role("heading", name="How can I help today?")).to_be_visible()
    page.screenshot(path=screenshot_dir / "01-empty-chat.png")

    send(page, "Hello from the **browser** test")

    expect(page.locator("#messages > .msg-user .msg-text")).to_have_text(
        "Hello from the **browser** test"
    )
    seen, final = watch_reply(page, shot=screenshot_dir / "02-streaming.png")
    assert len(set(seen)) >= 2, f"expected several partial renders, saw {seen}"
    assert len(seen[-1]) > len(seen[0])
    assert final["status"] == "complete"
    assert "demo model" in final["text"]

    reply = page.locator(LAST_REPLY)
    expect(reply.locator(".code-block pre")).to_contain_text("tokens stream")
    expect(reply.get_by_role("button", name=re.compile("Copy .*code"))).to_be_visible()
    expect(reply.locator(".msg-status")).to_have_count(0)  # complete: no label
    expect(reply).to_have_attribute("aria-busy", "false")
    expect(page.locator("#stop")).to_be_hidden()

    reply.locator(".msg-meta-toggle").click()
    details = reply.locator(".msg-meta-list")
    expect(details).to_contain_text("Output tokens")
    expect(details).to_contain_text("Cost")

    expect(page).to_have_url(re.compile(r"\?c=[0-9a-f-]{36}$"))
    expect(page.locator("#conversation-list .conversation-link")).to_have_count(1)
    expect(page.locator('#conversation-list [aria-current="page"]')).to_have_count(1)
    expect(page.locator("#usage-today")).to_contain_text("tokens")
    page.screenshot(path=screenshot_dir / "03-reply-with-details.png")


def test_stop_keeps_the_partial_reply_and_reload_shows_history(
    page, live_app, screenshot_dir
):
    log_in(page, live_app)
    send(page, "First question")
    _, first = watch_reply(page)
    assert first["status"] == "complete"

    send(page, "Now a long one, please. " + "Tell me everything about streams. " * 8)
    page.wait_for_function(
        "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
        "?.innerText.trim().length > 20"
    )
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(page.locator("#send")).to_have_attribute("aria-disabled", "true")
    stop.click()

    status = page.locator(f"{LAST_REPLY} .msg-status")
    expect(status).to_have_text("Stopped")
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "cancelled")
    expect(stop).to_be_hidden()
    partial = page.locator(f"{LAST_REPLY} .msg-content").inner_text()
    assert partial.strip(), "the partial reply is kept"
    page.screenshot(path=screenshot_dir / "04-stopped.png")

    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    questions = page.locator("#messages > .msg-user")
    replies = page.locator("#messages > .msg-assistant")
    expect(questions).to_have_count(2)
    expect(replies).to_have_count(2)
    expect(questions.first).to_contain_text("First question")
    expect(replies.first).to_contain_text("demo model")
    expect(status).to_have_text("Stopped")
    expect(page.locator('#conversation-list [aria-current="page"]')).to_have_count(1)
    page.screenshot(path=screenshot_dir / "05-history-after-reload.png")


def test_reload_mid_reply_joins_it_and_sees_every_token_once(page, live_app):
    log_in(page, live_app)
    send(page, "Reload while you answer")
    page.wait_for_function(
        "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
        "?.innerText.trim().length > 20"
    )
    page.reload()
    expect(page.locator("#messages > .msg-user")).to_have_count(1)
    seen, final = watch_reply(page)
    assert final["status"] == "complete"
    assert final["text"].count("This is the demo model") == 1
    assert final["text"].count("Reload while you answer") == 1


def test_refused_message_is_explained_and_kept_in_the_box(page, live_app):
    log_in(page, live_app)
    text = "x" * 3000  # live_app sets CHAT_MAX_MESSAGE_CHARS=2000
    send(page, text)

    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("too long")
    expect(page.get_by_label("Message", exact=True)).to_have_value(text)
    expect(page.locator("#messages > li")).to_have_count(0)

    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_be_hidden()


def test_deleting_a_conversation_asks_first(page, live_app):
    log_in(page, live_app)
    send(page, "A conversation to delete")
    watch_reply(page)
    item = page.locator('#conversation-list li:has([aria-current="page"])')
    title = item.locator("a").inner_text()

    item.hover()
    item.get_by_role("button", name=re.compile("^Delete")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(title)
    dialog.get_by_role("button", name="Cancel").click()
    expect(item).to_be_visible()

    item.get_by_role("button", name=re.compile("^Delete")).click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator("#conversation-list li", has_text=title)).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"\?c="))
    expect(page.locator("#messages > li")).to_have_count(0)


def test_small_screen_layout(page, live_app, screenshot_dir):
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_app)
    send(page, "Hello from a phone")
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    no_page_scroll = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_page_scroll), "the page scrolls sideways at 375 px"
    page.screenshot(path=screenshot_dir / "06-phone-chat.png")

    page.emulate_media(reduced_motion="reduce")  # no slide-in caught half-way
    toggle = page.get_by_role("button", name="Show conversations")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#sidebar")).to_be_in_viewport()
    page.screenshot(path=screenshot_dir / "07-phone-sidebar.png")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_login_and_signup_pages(page, live_app, screenshot_dir):
    """Sign-up is open with DEBUG: it sends a confirmation link instead of logging
    in, and the new account may log in but not chat until the email is verified."""
    base_url, username, _ = live_app
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("password you specified are not")
    page.screenshot(path=screenshot_dir / "08-login-error.png")

    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.screenshot(path=screenshot_dir / "09-signup.png", full_page=True)

    page.get_by_label("Email").fill("new-browser-user@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-42")
    page.get_by_label("Password (again)").fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Sign up").click()
    expect(
        page.get_by_role("heading", name="Verify Your Email Address")
    ).to_be_visible()

    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill("new-browser-user@example.com")
    page.get_by_label("Password").fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator(".topbar-username")).to_contain_text("new-browser")
    expect(page.locator("#conversation-empty")).to_be_visible()
    send(page, "Hello?")
    expect(page.locator("#banner-text")).to_contain_text("Confirm your email address")
