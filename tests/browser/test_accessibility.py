"""axe-core (vendored in tests/browser/vendor/) finds no serious or critical
violation on the chat page (empty, with a reply, while a reply streams, with
the shortcuts dialog open), the login page and the settings page, in both themes,
at desktop and phone sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_chat_page import log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
STREAMING = (
    "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
    "?.innerText.trim().length > 20"
)
# Serious and critical violations, one line each.
SCAN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" "));
      return `${v.id} (${v.impact}): ${where.join(", ")}`;
    });
}"""


def scan(page) -> list[str]:
    # evaluate() runs outside the page's CSP, which allows no injected script.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)
    return page.evaluate(SCAN)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "viewport",
    [{"width": 1440, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_no_serious_violations(page, page_app, scheme, viewport):
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    log_in(page, page_app)
    assert scan(page) == [], "empty chat"
    # A new text each time: a repeated one would come from the response cache at once.
    size = f"{viewport['width']}x{viewport['height']}"
    send(
        page, f"A reply to scan in {scheme} at {size}, with `code` " + "and words " * 10
    )
    page.wait_for_function(STREAMING, timeout=30_000)
    assert scan(page) == [], "streaming reply"
    watch_reply(page)
    assert scan(page) == [], "ended reply"
    page.keyboard.press("Control+/")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert scan(page) == [], "shortcuts dialog"


def test_messages_keep_list_semantics_with_a_polite_live_region(page, page_app):
    log_in(page, page_app)
    expect(page.locator("h1")).to_have_count(1)
    send(page, "Hello")
    watch_reply(page)
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(2)
    expect(page.locator("h1")).to_have_count(1)  # still there once a chat is open
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#announcer")).to_have_text("Reply finished.")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "viewport",
    [{"width": 1440, "height": 900}, {"width": 390, "height": 844}],
    ids=["desktop", "phone"],
)
def test_the_login_and_settings_pages_have_no_serious_violations(
    page, page_app, scheme, viewport
):
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{page_app[0]}/accounts/login/")
    assert scan(page) == [], "login page"
    log_in(page, page_app, path="/settings/api-keys/")
    expect(page.locator("h1")).to_have_count(1)
    assert scan(page) == [], "API keys settings page"


SHARE_LINK = """async (conversation) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(`/api/conversations/${conversation}/share/`, {
    method: "POST",
    headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
    body: JSON.stringify({show_name: true}),
  });
  return (await response.json()).url;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_share_and_data_pages_have_no_serious_violations(
    page, page_app, browser, scheme
):
    page.emulate_media(color_scheme=scheme)
    log_in(page, page_app)
    send(page, f"A reply to share and scan in {scheme}, with `code` and words")
    watch_reply(page)
    reply = page.locator("#messages > .msg-assistant").last
    reply.get_by_role("button", name="Good reply").click()
    expect(reply.get_by_label("Why? (optional)")).to_be_visible()
    assert scan(page) == [], "thumbs and the comment form"
    page.get_by_role("button", name="Share", exact=True).click()
    dialog = page.get_by_role("dialog", name="Share this conversation")
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.get_by_label("Link")).not_to_have_value("")
    assert scan(page) == [], "share dialog"
    dialog.get_by_role("button", name="Close").click()

    conversation = page.evaluate("() => new URL(location.href).searchParams.get('c')")
    url = page.evaluate(SHARE_LINK, conversation)
    page.goto(url)
    expect(page.locator("#messages > .msg-assistant")).to_have_count(1)
    assert scan(page) == [], "shared page, logged in"
    context = browser.new_context()
    reader = context.new_page()
    reader.emulate_media(color_scheme=scheme)
    try:
        reader.goto(url)
        expect(reader.locator("#messages > .msg-assistant")).to_have_count(1)
        assert scan(reader) == [], "shared page, anonymous"
    finally:
        context.close()

    page.goto(page_app[0] + "/settings/data/")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    assert scan(page) == [], "data settings page"
