"""A streamed reply holds a bounded number of LangChain chunks
(chat/llm/bounded_stream.py), and what LangChain merges at the end is unchanged."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from chat.llm import bounded_stream
from chat.llm.bounded_stream import MERGE_EVERY, BoundedChatOpenAI
from tests.servers.fake_openai import Reply

TOKENS = [f"t{i} " for i in range(3 * MERGE_EVERY + 5)]


async def stream(model) -> tuple[str, object]:
    """The streamed text and the message `on_chat_model_end` carries."""
    text, end = [], None
    async for event in model.astream_events([("user", "count")], version="v2"):
        if event["event"] == "on_chat_model_stream":
            text.append(event["data"]["chunk"].content)
        elif event["event"] == "on_chat_model_end":
            end = event["data"]["output"]
    return "".join(text), end


def model(cls, fake_openai):
    return cls(
        model="gpt-4o-mini",
        base_url=fake_openai.base_url,
        api_key="test",
        stream_usage=True,
        max_retries=0,
    )


async def test_stream_holds_at_most_merge_every_chunks(fake_openai, monkeypatch):
    """The list LangChain keeps is found in the installed version and never grows
    past MERGE_EVERY + 1 chunks."""
    seen: list[int] = []
    find = bounded_stream._held_chunks

    def spy(frame):
        held = find(frame)
        assert held is not None, "astream's chunk list was not found"
        seen.append(held)
        return held

    monkeypatch.setattr(bounded_stream, "_held_chunks", spy)
    fake_openai.enqueue(Reply(tokens=TOKENS, usage=(7, len(TOKENS))))
    bounded = model(BoundedChatOpenAI, fake_openai)
    sizes = []
    async for event in bounded.astream_events([("user", "count")], version="v2"):
        if event["event"] == "on_chat_model_stream" and seen:
            sizes.append(len(seen[0]))
    assert len(sizes) >= len(TOKENS)
    assert max(sizes) <= MERGE_EVERY + 1, max(sizes)


async def test_merged_reply_is_what_langchain_merges_unbounded(fake_openai):
    """Text, usage and metadata at `on_chat_model_end` equal plain ChatOpenAI's."""
    fake_openai.enqueue(
        Reply(tokens=TOKENS, usage=(7, len(TOKENS))),
        Reply(tokens=TOKENS, usage=(7, len(TOKENS))),
    )
    text, end = await stream(model(BoundedChatOpenAI, fake_openai))
    plain_text, plain_end = await stream(model(ChatOpenAI, fake_openai))
    assert text == plain_text == "".join(TOKENS)
    assert end.content == plain_end.content == text
    assert end.usage_metadata == plain_end.usage_metadata
    assert end.usage_metadata["output_tokens"] == len(TOKENS)
    assert end.response_metadata == plain_end.response_metadata
    assert end.id.startswith("lc_run-")
