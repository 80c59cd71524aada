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
