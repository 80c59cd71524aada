"""Tool calls in the page: a real daphne whose model (the scripted OpenAI-compatible
server) calls the Python sandbox; the step is a collapsible block that shows its
arguments streaming while it runs, then its result, and the same after a reload,
in both themes; the conversation's tool switch is there."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import LAST_REPLY, log_in, send
from tests.servers.fake_openai import FakeOpenAI, Reply, ToolCall

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

# A fresh app migrates its database first: minutes on a loaded machine.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

CODE = "total = 0\nfor i in range(7):\n    total += i * 2\nprint(total)"
STEP = f"{LAST_REPLY} .tool-step"
ANSWER = f"{LAST_REPLY} .msg-content"


@pytest.fixture(scope="module")
def model():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def tools_app(tmp_path_factory, model):
    with serve_app(
        tmp_path_factory.mktemp("tools_app"),
        LLM_BACKEND="openai",
        OPENAI_BASE_URL=model.base_url,
        OPENAI_API_KEY="test-key",
        LLM_MODEL="gpt-4o-mini",
        LLM_TOOLS="1",
        CHAT_TOOLS="python",
        CHAT_PYTHON_TIME_SECONDS="5",
    ) as app:
        yield app


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_tool_steps_render_while_streaming_and_after_reload(
    page, tools_app, model, scheme
):
    page.emulate_media(color_scheme=scheme)
    arguments = json.dumps({"code": CODE})
    model.enqueue(
        Reply(
            tokens=("Let me", " add that up."),
            # Slow arguments: the step is seen running, its arguments growing.
            tool_calls=[ToolCall("python", arguments, "call_sum", pieces=12)],
            delay=0.25,
        ),
        Reply(tokens=("The", " total", " is", " 42."), delay=0.05),
    )
    log_in(page, tools_app)
    send(page, "Add the doubles of 0 to 6")

    step = page.locator(STEP)
    expect(step).to_have_count(1)
    expect(step).to_have_class("tool-step tool-running")
    summary = step.locator("summary")
    expect(summary).to_contain_text("python")
    expect(summary).to_contain_text("running")
    summary.click()  # open it while it runs: it stays open as it updates
    partial = step.locator(".tool-args pre")
    expect(partial).to_contain_text('{"code"')
    assert "print(total)" not in partial.inner_text()

    expect(step).to_have_class("tool-step tool-done", timeout=20_000)
    expect(step).to_have_attribute("open", "")
    expect(step.locator(".tool-result pre")).to_have_text("42")
    expect(step.locator(".tool-args pre")).to_contain_text("print(total)")
    expect(page.locator(LAST_REPLY)).to_have_attribute("data-status", "complete")
    expect(page.locator(ANSWER)).to_contain_text("The total is 42.")
    # The block sits above the reply's text and is a named group.
    assert page.evaluate(
        f"""() => {{
        const tools = document.querySelector("{LAST_REPLY} .msg-tools");
        return tools.getAttribute("aria-label") === "Tool calls"
          && tools.nextElementSibling.classList.contains("msg-content");
    }}"""
    )
    colours = page.evaluate(
        f"""() => {{
        const pre = document.querySelector("{STEP} .tool-result pre");
        const style = getComputedStyle(pre);
        return [style.color, style.backgroundColor];
    }}"""
    )
    assert colours[0] != colours[1]

    # The conversation offers its tool switch.
    switches = page.locator("#tool-switches")
    expect(switches).to_be_visible()
    switches.locator("summary").click()
    expect(switches.get_by_label("python")).to_be_checked()

    page.reload()
    step = page.locator(STEP)
    expect(step).to_have_count(1)
    expect(step).to_have_class("tool-step tool-done")
    expect(step).not_to_have_attribute("open", "")
    step.locator("summary").click()
    expect(step.locator(".tool-result pre")).to_have_text("42")
    expect(step.locator(".tool-args pre")).to_contain_text("print(total)")
    expect(page.locator(ANSWER)).to_contain_text("The total is 42.")
