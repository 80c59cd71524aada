"""One Markdown engine on both sides: what streams is what stays.

For every reply of a corpus, the real chat page renders the text delta by delta
with its own modules (markdown-it, DOMPurify, highlight.js, KaTeX), as it does
while a reply streams; the DOM after the last delta must equal the DOM the page
builds from the server's `end` HTML (chat.rendering.render_markdown, the function
that fills the `end` frame). Then one reply goes through the whole path: a fake
OpenAI server streams it, and the page's final DOM equals its own rendering of the
streamed text."""

from __future__ import annotations

import random

import pytest

from chat.rendering import render_markdown
from tests.browser.conftest import serve_app
from tests.browser.test_chat_page import LAST_REPLY, log_in, send, watch_reply
from tests.data.markdown_corpus import HELD_OUT, TUNING
from tests.servers.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.browser

# Streams each text in random pieces, then the end HTML, in a detached list item;
# returns the two DOMs' HTML when they differ, else null.
SAME_CHILDREN = """(a, b) => a.childNodes.length === b.childNodes.length
  && [...a.childNodes].every((node, i) => node.isEqualNode(b.childNodes[i]))"""

REPLAY = """async ({ text, html, chunks }) => {
  const sameChildren = SAME_CHILDREN;
  const render = await import("/static/chat/render.js");
  const make = (id) => {
    const item = render.assistantMessage({ id, streaming: true });
    document.querySelector("#messages").append(item);
    return item;
  };
  const streamed = make("replay-stream");
  let shown = "";
  for (const chunk of chunks) {
    shown += chunk;
    await render.renderPartial(streamed, shown);
  }
  const ended = make("replay-end");
  await render.renderFinal(ended, { status: "complete", content: text, html });
  const a = streamed.querySelector(".msg-content");
  a.querySelector(".cursor")?.remove();
  const b = ended.querySelector(".msg-content");
  const out = sameChildren(a, b) ? null : { stream: a.innerHTML, end: b.innerHTML };
  streamed.remove();
  ended.remove();
  return out;
}""".replace("SAME_CHILDREN", SAME_CHILDREN)

# The final DOM of the last reply against the page's own rendering of `text`.
SAME_AS_STREAMED = """async (text) => {
  const sameChildren = SAME_CHILDREN;
  const render = await import("/static/chat/render.js");
  const item = render.assistantMessage({ id: "replay-check", streaming: true });
  document.body.append(item);
  await render.renderPartial(item, text);
  const a = item.querySelector(".msg-content");
  a.querySelector(".cursor")?.remove();
  item.remove();
  const last = "#messages > .msg-assistant:last-child .msg-content";
  const b = document.querySelector(last);
  return sameChildren(a, b) ? null : { stream: a.innerHTML, end: b.innerHTML };
}""".replace("SAME_CHILDREN", SAME_CHILDREN)


def _chunks(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        size = rng.randint(1, 7)
        out.append(text[i : i + size])
        i += size
    return out


def _differences(page, corpus: list[str]) -> list[tuple[str, dict]]:
    rng = random.Random(21)
    problems = []
    for text in corpus:
        args = {
            "text": text,
            "html": render_markdown(text),
            "chunks": _chunks(text, rng),
        }
        diff = page.evaluate(REPLAY, args)
        if diff:
            problems.append((text, diff))
    return problems


@pytest.mark.parametrize("corpus", [TUNING, HELD_OUT], ids=["tuning", "held-out"])
def test_streamed_dom_equals_end_dom_for_a_corpus(page, page_app, corpus):
    log_in(page, page_app)
    problems = _differences(page, corpus)
    agreed = len(corpus) - len(problems)
    print(f"stream/end DOM agreement: {agreed}/{len(corpus)}")
    assert problems == []


REAL_REPLY = (
    "Here is **code** and math, see https://example.com:\n"
    "```python\nprint('hi')\n```\n"
    "$$\n\\frac{a}{b}\\,c\n$$\n"
    "and inline $x^2$.\nA second line."
)


@pytest.fixture(scope="module")
def markdown_app(tmp_path_factory):
    """A daphne whose model (FakeOpenAI) streams REAL_REPLY in small pieces."""
    pieces = _chunks(REAL_REPLY, random.Random(5))
    with (
        FakeOpenAI(default=Reply(tokens=pieces, delay=0.01)) as fake,
        serve_app(
            tmp_path_factory.mktemp("markdown_app"),
            LLM_BACKEND="openai",
            OPENAI_BASE_URL=fake.base_url,
            OPENAI_API_KEY="test",
            LLM_MODEL="gpt-4o-mini",
        ) as app,
    ):
        yield app


def test_a_streamed_reply_keeps_its_shape_when_it_ends(page, markdown_app):
    log_in(page, markdown_app)
    send(page, "Show me code and math")
    seen, final = watch_reply(page)
    assert len(seen) >= 2 and final["status"] == "complete"
    assert page.evaluate(SAME_AS_STREAMED, REAL_REPLY) is None
    reply = page.locator(LAST_REPLY)
    assert reply.locator(".katex").count() == 2
    # The TeX reached KaTeX whole: the backslash of `\,` survived both renderers.
    tex = reply.locator(".math-display").get_attribute("data-tex")
    assert tex == "\\frac{a}{b}\\,c"
    assert reply.locator(".math-display .katex-mathml annotation").text_content() == tex
    assert reply.locator("a[href='https://example.com']").count() == 1
