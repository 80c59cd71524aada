"""The page people keep open all day (issue 21), in Chromium against the demo model:
code blocks, banners, the composer's counter and wait hint, jump-to-bottom,
timestamps, the phone header, dark mode, shortcuts, languages, right-to-left text
and the installable app's offline screen. Screenshots land in test-results/browser/."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
RESET_THEME = """() => fetch("/api/preferences/", {
  method: "PUT",
  headers: {
    "Content-Type": "application/json",
    "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content,
  },
  body: JSON.stringify({ theme: "system" }),
}).then((response) => response.status)"""
STREAMING = (
    "() => document.querySelector('.msg-assistant.is-streaming .msg-content')"
    "?.innerText.trim().length > 20"
)


def test_code_blocks_are_highlighted_labelled_and_copied(page, page_app):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, page_app)
    send(page, "Show me code")
    watch_reply(page)
    block = page.locator(LAST_REPLY).locator(".code-block")
    expect(block.locator(".code-lang")).to_have_text("python")
    expect(
        block.locator("code.hljs .hljs-built_in, code.hljs .hljs-string")
    ).not_to_have_count(0)
    block.get_by_role("button", name="Copy python code").click()
    expect(block.get_by_role("button", name="Copy python code")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == block.locator("pre").inner_text()
    assert 'print("tokens stream over a WebSocket")' in copied


def test_enter_while_a_reply_streams_says_why_it_waits(page, page_app):
    log_in(page, page_app)
    send(page, "A long answer please " + "and more " * 10)
    page.wait_for_function(STREAMING)
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("my next question")
    prompt.press("Enter")
    expect(page.locator("#composer-hint")).to_contain_text("A reply is being written")
    expect(prompt).to_have_value("my next question")  # kept, not sent
    watch_reply(page)
    expect(page.locator("#messages > .msg-user")).to_have_count(1)


def test_a_counter_shows_near_the_limit_from_the_server(page, page_app):
    log_in(page, page_app)  # page_app: CHAT_MAX_MESSAGE_CHARS=2000
    assert page.locator("body").get_attribute("data-max-chars") == "2000"
    prompt = page.get_by_label("Message", exact=True)
    counter = page.locator("#char-counter")
    prompt.fill("x" * 1500)
    expect(counter).to_be_hidden()
    prompt.fill("x" * 1700)
    expect(counter).to_have_text("1,700 / 2,000")
    prompt.fill("x" * 2100)
    expect(counter).to_have_class(re.compile("is-over"))
    prompt.press("Enter")
    expect(page.locator("#banner")).to_contain_text("the limit is 2,000 characters")


def test_an_offline_banner_clears_once_reconnected(page, page_app):
    log_in(page, page_app)
    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    send(page, "sent while offline")
    banner = page.locator("#banner")
    expect(banner).to_contain_text("You are offline")
    page.context.set_offline(False)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    expect(banner).to_be_hidden()
    expect(page.get_by_label("Message", exact=True)).to_have_value("sent while offline")


def test_a_banner_never_covers_the_last_reply_controls(page, page_app):
    page.set_viewport_size(PHONE)
    log_in(page, page_app)
    send(page, "Hello")
    watch_reply(page)
    page.get_by_label("Message", exact=True).fill("x" * 2100)
    page.get_by_label("Message", exact=True).press("Enter")
    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    regenerate = page.locator(LAST_REPLY).get_by_role("button", name="Regenerate reply")
    expect(regenerate).to_be_in_viewport()
    button, cover = regenerate.bounding_box(), banner.bounding_box()
    thread = page.locator("#thread").bounding_box()
    assert button["y"] + button["height"] <= thread["y"] + thread["height"]
    assert button["y"] + button["height"] <= cover["y"], "the banner covers the button"
    regenerate.click()  # reachable: a new reply replaces the old one
    expect(page.locator("#messages > .msg-assistant.is-streaming")).to_have_count(1)
    _, final = watch_reply(page)
    assert final["status"] == "complete"


def test_jump_to_bottom_and_a_time_on_every_message(page, page_app):
    page.set_viewport_size({"width": 1024, "height": 600})
    log_in(page, page_app)
    for n in range(2):
        send(page, f"Question {n}")
        watch_reply(page)
    times = page.locator("#messages .msg-time")
    expect(times).to_have_count(4)
    assert all(re.search(r"\d", t) for t in times.all_inner_texts())
    jump = page.get_by_role("button", name="Jump to the latest message")
    expect(jump).to_be_hidden()
    page.locator("#thread").evaluate("(t) => { t.scrollTop = 0; }")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    page.wait_for_function(
        "() => { const t = document.querySelector('#thread');"
        " return t.scrollHeight - t.scrollTop - t.clientHeight < 80; }"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_phone_header_is_one_row(page, page_app, screenshot_dir, scheme):
    page.set_viewport_size(PHONE)
    page.emulate_media(color_scheme=scheme)
    log_in(page, page_app)
    send(page, "Hello from a phone, with `code`")
    watch_reply(page)
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 60, header
    boxes = page.locator("header.topbar > *:visible").evaluate_all(
        "(els) => els.map((e) => e.getBoundingClientRect())"
        ".filter((r) => r.width > 0).map((r) => [r.top, r.bottom])"
    )
    middle = header["y"] + header["height"] / 2
    assert all(top < middle < bottom for top, bottom in boxes), boxes
    no_sideways = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways)
    page.screenshot(path=screenshot_dir / f"40-phone-{scheme}.png")


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(
    browser, page, page_app, screenshot_dir
):
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="dark")
    log_in(page, page_app)
    background = "() => getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(23, 24, 28)"
    send(page, "Hello in the dark, with $x^2$ math")
    watch_reply(page)
    page.screenshot(path=screenshot_dir / "41-desktop-dark.png")
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    with page.expect_response("**/api/preferences/") as saved:
        toggle.click()
    assert saved.value.ok
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.reload()
    assert page.evaluate(background) == "rgb(255, 255, 255)"  # remembered
    expect(page.get_by_role("button", name="Dark theme")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.screenshot(path=screenshot_dir / "42-desktop-light-chosen.png")

    # Another browser (no local storage) of the same account, whose system is
    # dark: the page arrives light, in the HTML itself.
    other = browser.new_context(color_scheme="dark")
    try:
        elsewhere = other.new_page()
        log_in(elsewhere, page_app)
        html = elsewhere.request.get(f"{page_app[0]}/").text()
        assert '<html lang="en" dir="ltr" data-theme="light">' in html
        assert elsewhere.evaluate(background) == "rgb(255, 255, 255)"
    finally:
        other.close()
        # The account is shared with the other page tests: back to the system's.
        page.evaluate(RESET_THEME)
    page.reload()
    assert page.evaluate(background) == "rgb(23, 24, 28)"


def test_keyboard_shortcuts_are_listed_and_work(page, page_app):
    log_in(page, page_app)
    send(page, "A first chat")
    watch_reply(page)
    page.keyboard.press("Control+/")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for shortcut in (
        "New chat",
        "Search conversations",
        "Stop the reply being written",
        "Focus the message box",
    ):
        expect(dialog).to_contain_text(shortcut)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("Control+k")
    expect(page.get_by_label("Search conversations")).to_be_focused()
    page.keyboard.press("Shift+Escape")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.keyboard.press("Control+Shift+O")
    expect(page).not_to_have_url(re.compile(r"\?c="))
    expect(page.locator("#messages > li")).to_have_count(0)
    send(page, "Stop me " + "please " * 10)
    page.wait_for_function(STREAMING)
    page.keyboard.press("Escape")
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "cancelled")


def test_the_page_speaks_the_browser_language(browser, page_app, screenshot_dir):
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(page_app[0] + "/accounts/login/")
        expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
        expect(page.get_by_label("Nom d’utilisateur ou e-mail")).to_be_visible()
        expect(page.get_by_text("Bon retour parmi nous.")).to_be_visible()
        log_in(page, page_app)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        heading = page.get_by_role("heading", name="Comment puis-je vous aider")
        expect(heading).to_be_visible()
        expect(page.locator("#conn-text")).to_have_text(
            "Connecté"
        )  # from the JS catalogue
        send(page, "Bonjour\nمرحبا بالعالم")
        watch_reply(page)
        expect(page.locator(LAST_REPLY).locator(".code-lang")).to_have_text("python")
        copy = page.locator(LAST_REPLY).get_by_role(
            "button", name="Copier le code python"
        )
        expect(copy).to_be_visible()
        user_text = page.locator("#messages > .msg-user .msg-text")
        expect(user_text).to_have_attribute("dir", "auto")
        page.screenshot(path=screenshot_dir / "43-french.png")
        page.get_by_label("Langue").select_option("de")
        page.get_by_role("button", name="Appliquer").click()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("button", name="Neuer Chat")).to_be_visible()
        page.goto(page_app[0] + "/settings/api-keys/")
        expect(page.get_by_role("heading", name="API-Schlüssel")).to_be_visible()
        expect(page.get_by_label("Läuft ab")).to_have_value("")
        expect(page.get_by_role("button", name="Schlüssel erstellen")).to_be_visible()
    finally:
        context.close()


def test_right_to_left_text_reads_right_to_left(page, page_app):
    log_in(page, page_app)
    send(page, "שלום עולם, מה שלומך?")
    watch_reply(page)
    direction = page.locator("#messages > .msg-user .msg-text").evaluate(
        "(el) => getComputedStyle(el).direction"
    )
    assert direction == "rtl"


def test_the_app_installs_and_shows_an_offline_screen(page, page_app):
    base_url, _, _ = page_app
    manifest = page.request.get(f"{base_url}/manifest.webmanifest").json()
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    log_in(page, page_app)
    page.wait_for_function(
        "async () => (await navigator.serviceWorker.ready).active?.state"
        " === 'activated'"
    )
    page.reload()  # now controlled by the worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cached = page.evaluate(
        "async () => { const keys = [];"
        " for (const name of await caches.keys()) {"
        "  const cache = await caches.open(name);"
        "  keys.push(...(await cache.keys()).map((r) => new URL(r.url).pathname)); }"
        " return keys; }"
    )
    assert "/offline/" in cached
    assert not [path for path in cached if path.startswith(("/api/", "/ws/"))]
    assert "/" not in cached  # the chat page itself carries the user's name
    page.context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    finally:
        page.context.set_offline(False)
