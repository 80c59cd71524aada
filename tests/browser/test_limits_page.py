"""Issue 4 in the browser: a reply waiting for the provider shows its place in the
queue, the sidebar shows what is left of the user's budget, and a spent budget is
explained with its reset time and a countdown that runs."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

STREAMING = (
    "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
    "?.innerText.trim().length > 20"
)


@pytest.fixture(scope="module")
def queue_app(tmp_path_factory):
    """One request at a time towards the model, two replies at once per user, and
    a daily token budget."""
    with serve_app(
        tmp_path_factory.mktemp("queue_app"),
        LLM_BACKEND="demo",
        CHAT_DEMO_DELAY_MS="30",
        CHAT_UPSTREAM_MAX_CONCURRENT="1",
        CHAT_MAX_CONCURRENT_REPLIES="2",
        CHAT_BUDGET_TOKENS_PER_DAY="50000",
    ) as app:
        yield app


@pytest.fixture(scope="module")
def spent_app(tmp_path_factory):
    """A daily budget too small for any reply."""
    with serve_app(
        tmp_path_factory.mktemp("spent_app"),
        LLM_BACKEND="demo",
        CHAT_BUDGET_TOKENS_PER_DAY="10",
    ) as app:
        yield app


def test_a_queued_reply_shows_its_place_until_it_streams(
    page, queue_app, screenshot_dir
):
    log_in(page, queue_app)
    first = page.context.new_page()
    first.goto(page.url)
    expect(first.locator("#conn")).to_have_attribute("data-state", "connected")
    send(first, "Take the only upstream slot for a while")
    first.wait_for_function(STREAMING)

    send(page, "And wait for it")
    reply = page.locator("#messages > .msg-assistant:last-child")
    expect(reply.locator(".msg-queued")).to_have_text(
        "Waiting for the model — position 1"
    )
    expect(page.locator("#announcer")).to_have_text(
        "Waiting for the model — position 1."
    )
    page.screenshot(path=screenshot_dir / "20-queued.png")

    _, final = watch_reply(page)
    assert final["status"] == "complete"
    expect(reply.locator(".msg-queued")).to_have_count(0)
    assert "demo model" in final["text"]
    _, other = watch_reply(first)
    assert other["status"] == "complete"
    first.close()


def test_the_sidebar_shows_the_budget_left_after_each_reply(
    page, queue_app, screenshot_dir
):
    log_in(page, queue_app)
    left = page.locator("#usage-budgets dd").first
    expect(page.locator("#usage-budgets dt").first).to_have_text("Left today")
    expect(page.locator("#usage-budgets .usage-reset")).to_have_text(
        "resets at 00:00 UTC"
    )
    expect(left).to_have_text(re.compile(r"^[\d,]+ tokens$"))
    before = int(left.inner_text().split()[0].replace(",", ""))
    assert before <= 50000

    send(page, "Spend some of my budget")
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    expect(left).not_to_have_text(f"{before:,} tokens")
    after = int(left.inner_text().split()[0].replace(",", ""))
    assert 0 < after < before
    expect(left).to_have_attribute("title", re.compile(r"^Used [\d,]+ of 50,000"))
    page.locator("#usage").screenshot(path=screenshot_dir / "21-budget-left.png")


def test_a_spent_budget_names_its_reset_and_counts_down(
    page, spent_app, screenshot_dir
):
    log_in(page, spent_app)
    expect(page.locator("#usage-budgets dd").first).to_have_text("10 tokens")
    # Time stands still until the test moves it, so the countdown can be read.
    page.clock.install()
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    page.clock.pause_at(page.evaluate("() => Date.now()"))
    send(page, "Anything at all")

    banner = page.locator("#banner-text")
    expect(banner).to_contain_text(
        "Not enough is left of your daily budget of 10 tokens for this message; "
        "it resets at 00:00 UTC."
    )
    expect(banner).to_contain_text("Try again in")
    before = banner.inner_text()
    assert before.count("Try again") == 1, "one countdown, not two"
    page.clock.run_for("01:00")
    expect(banner).not_to_have_text(before)
    assert _minutes_left(banner.inner_text()) == _minutes_left(before) - 1
    expect(page.get_by_label("Message", exact=True)).to_have_value("Anything at all")
    expect(page.locator("#messages > li")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "22-budget-spent.png")


def _minutes_left(text: str) -> int:
    """Minutes in "Try again in 5 h 3 min." (or "3 min 20 s")."""
    match = re.search(r"Try again in (?:(\d+)\sh\s?)?(?:(\d+)\smin)?", text)
    assert match and any(match.groups()), text
    hours, minutes = (int(n or 0) for n in match.groups())
    return hours * 60 + minutes
