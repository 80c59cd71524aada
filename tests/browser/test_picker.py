"""Issue 20 in the browser: pick a model per conversation and switch mid-way, start
from a preset and change a conversation's settings, see a reply cut by the length
limit and Continue it, see a reply served from the cache marked "cached".

A real daphne (the demo model from the environment) with a catalogue entry on a
scripted OpenAI-compatible server running in this test process."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.browser.conftest import _manage, serve_app
from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply
from tests.servers.fake_openai import FakeOpenAI, Reply

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

# The first test also starts the app (migrate, seed, daphne): on a loaded machine
# that alone can take a minute.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

HOUSE = Reply(tokens=("House ", "says ", "hi."), usage=(40, 3))

SETUP = """
from chat.models import CatalogueEntry, Preset
CatalogueEntry.objects.update(is_default=False)
CatalogueEntry.objects.create(
    key="house", name="House model", provider="openai", model="house-model",
    base_url={base_url!r}, context_window=32000, max_output_tokens=2000,
    input_per_mtok="1.00", cached_input_per_mtok="0.50", output_per_mtok="2.00",
    min_temperature=0, max_temperature=1, tools=True, is_default=True,
)
Preset.objects.create(
    name="Poet", description="Answers in verse", model_key="house",
    system_prompt="Answer in verse.", shared=True,
)
"""


@pytest.fixture(scope="module")
def house():
    with FakeOpenAI(default=HOUSE) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("picker_app")


@pytest.fixture(scope="module")
def picker_app(workdir, house):
    with serve_app(
        workdir,
        setup=SETUP.format(base_url=house.base_url),
        LLM_BACKEND="demo",
        CHAT_DEMO_DELAY_MS="5",
        CHAT_TITLES="0",  # the house model answers the chat only
        CHAT_RATE_LIMITS="1000/1m",
        CHAT_CACHE_BACKEND="memory",
    ) as app:
        yield app


@pytest.fixture
def fresh(house):
    house.reset()
    house.default = HOUSE
    return house


def ask(page, text: str) -> dict:
    """Send and wait for the new reply's end: its final state."""
    replies = page.locator("#messages > .msg-assistant")
    before = replies.count()
    send(page, text)
    expect(replies).to_have_count(before + 1)
    return watch_reply(page)[1]


def model_select(page):
    return page.get_by_label("Model", exact=True)


def test_pick_a_model_and_switch_mid_conversation(
    page, picker_app, fresh, screenshot_dir
):
    log_in(page, picker_app)
    select = model_select(page)
    expect(select).to_have_value("house")
    options = select.locator("option")
    expect(options).to_have_text(["Demo model (demo)", "House model (default)"])
    info = page.locator("#model-info")
    expect(info).to_have_text(
        "32,000-token window · $1 in, $2 out per million tokens · tools"
    )
    expect(page.locator(".badge-model")).to_have_text("House model")
    page.screenshot(path=screenshot_dir / "20-picker.png")

    select.select_option("default")  # the demo model, from the keyboard-able select
    expect(info).to_contain_text("canned replies")
    first = ask(page, "First, the demo")
    assert first["status"] == "complete" and "demo model" in first["text"]
    assert fresh.request_count == 0

    model_select(page).select_option("house")
    second = ask(page, "Now the house model")
    assert second["text"] == "House says hi."
    sent = fresh.last_request.body
    assert sent["model"] == "house-model"
    # The history moved with the conversation to the new model.
    contents = [m["content"] for m in sent["messages"]]
    assert "First, the demo" in contents and contents[-1] == "Now the house model"

    # Reloaded, the conversation shows the model it now runs on.
    page.reload()
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "complete")
    expect(model_select(page)).to_have_value("house")


def test_start_from_a_preset_and_change_the_settings(page, picker_app, fresh):
    log_in(page, picker_app)
    settings_button = page.get_by_role("button", name="Conversation settings")
    expect(settings_button).to_have_attribute("aria-disabled", "true")
    start_from = page.get_by_label("Start from")
    start_from.select_option(label="Poet")
    reply = ask(page, "Write about the sea")
    assert reply["status"] == "complete"
    sent = fresh.last_request.messages
    assert sent[0]["role"] == "system"  # the operator's prompt stays first
    assert any(m["role"] == "user" and "Answer in verse." in m["content"] for m in sent)
    expect(start_from).to_be_hidden()  # a preset starts a conversation only

    expect(settings_button).to_have_attribute("aria-disabled", "false")
    settings_button.click()
    dialog = page.get_by_role("dialog", name="Conversation settings")
    expect(dialog.get_by_label("System prompt")).to_have_value("Answer in verse.")
    temperature = dialog.get_by_label("Temperature")
    temperature.fill("1.7")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "The temperature must be between 0 and 1."
    )
    temperature.fill("0.3")
    dialog.get_by_label("Longest reply (tokens)").fill("120")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    ask(page, "Once more")
    body = fresh.last_request.body
    assert body["temperature"] == 0.3 and body["max_tokens"] == 120


def test_a_truncated_reply_is_marked_and_continues(page, picker_app, fresh):
    fresh.enqueue(
        Reply(tokens=("Once ", "upon ", "a"), usage=(20, 3), finish_reason="length"),
        Reply(tokens=(" time.",), usage=(30, 2)),
    )
    log_in(page, picker_app)
    cut = ask(page, "Tell me a story")
    assert cut["status"] == "complete" and cut["text"] == "Once upon a"
    last = page.locator(LAST_REPLY)
    expect(last.locator(".status-truncated")).to_have_text("Cut at the length limit")
    proceed = last.get_by_role("button", name="Continue reply")
    expect(proceed).to_be_visible()
    proceed.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages > .msg-continuation")).to_have_count(1)
    _, rest = watch_reply(page)
    assert rest["text"] == "time." and rest["status"] == "complete"
    assert fresh.last_request.messages[-2] == {
        "role": "assistant",
        "content": "Once upon a",
    }
    # The whole reply copies as one text, and a reload shows the mark again.
    page.reload()
    expect(page.locator(".msg-assistant .status-truncated")).to_have_count(1)


def test_a_reply_from_the_cache_says_so(page, picker_app, fresh):
    fresh.default = Reply(tokens=("Paris",), usage=(1000, 1000))
    log_in(page, picker_app)
    question = f"Capital of France? {fresh.port}"
    ask(page, question)
    expect(page.locator(LAST_REPLY).locator(".msg-cached")).to_have_count(0)
    page.get_by_role("button", name="New chat").click()
    again = ask(page, question)
    assert again["text"] == "Paris" and fresh.request_count == 1
    mark = page.locator(LAST_REPLY).locator(".msg-cached")
    # 1000 input at $1 and 1000 output at $2 per million tokens.
    expect(mark).to_have_text("Cached · saved 2,000 tokens, $0.003")


def test_the_settings_page_keeps_custom_instructions(page, picker_app, fresh):
    log_in(page, picker_app)
    page.get_by_role("link", name=re.compile("^Settings")).click()
    expect(page).to_have_url(re.compile(r"/settings/$"))
    page.get_by_role("textbox", name="Custom instructions").fill("Call me Captain.")
    page.get_by_role("button", name="Save instructions").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your custom instructions are saved."
    )
    page.get_by_role("link", name="Back to chat").click()
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    ask(page, "Who am I?")
    sent = json.dumps(fresh.last_request.messages)
    assert "Call me Captain." in sent


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_picker_fits_a_phone(page, picker_app, fresh, screenshot_dir, scheme):
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme=scheme)
    log_in(page, picker_app)
    select = model_select(page)
    expect(select).to_be_in_viewport()
    expect(page.get_by_label("Start from")).to_be_in_viewport()
    ask(page, "Hello from a phone")
    no_sideways = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways)
    page.screenshot(path=screenshot_dir / f"21-picker-phone-{scheme}.png")
    page.get_by_role("button", name="Conversation settings").click()
    dialog = page.get_by_role("dialog", name="Conversation settings")
    expect(dialog.get_by_role("button", name="Save")).to_be_in_viewport()
    page.screenshot(path=screenshot_dir / f"22-settings-phone-{scheme}.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def change_house(workdir, **fields) -> None:
    """Save the house entry from another process, as an operator in admin would."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatproject.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    code = (
        "from chat.models import CatalogueEntry\n"
        "entry = CatalogueEntry.objects.get(key='house')\n"
        + "".join(f"entry.{name} = {value!r}\n" for name, value in fields.items())
        + "entry.save()\n"
    )
    _manage("shell", "-c", code, env=env)


def test_a_disabled_model_falls_back_with_a_note_and_a_new_default_is_news(
    page, picker_app, fresh, workdir
):
    log_in(page, picker_app)
    assert ask(page, "Before")["text"] == "House says hi."
    change_house(workdir, enabled=False)
    try:
        after = ask(page, "After")
        assert "demo model" in after["text"]
        note = page.locator(LAST_REPLY).locator(".msg-note")
        expect(note).to_have_text(
            "House model is no longer available; Demo model answered."
        )
        page.get_by_role("button", name="New chat").click()
        page.reload()  # a new hello: the demo is the default now
        expect(model_select(page)).to_have_value("default")
        expect(model_select(page).locator("option")).to_have_count(1)
        change_house(workdir, enabled=True)
        # The next reply comes from a model the page does not know: it asks for
        # the list again and says what changed.
        assert ask(page, "And now?")["text"] == "House says hi."
        expect(page.locator("#banner-text")).to_have_text(
            "House model is now the default model: new chats use it."
        )
        expect(model_select(page)).to_have_value("house")
    finally:
        change_house(workdir, enabled=True, is_default=True)
