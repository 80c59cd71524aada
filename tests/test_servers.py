"""The test servers speak OpenAI's API as the real ``openai`` SDK understands it.

Other tests trust these servers to stand in for OpenAI (and for a real local
model), so each scripted behaviour is checked here through the actual client.
"""

from __future__ import annotations

import threading
import time

import openai
import pytest
from langchain_openai import ChatOpenAI

from tests.servers.fake_openai import Cut, FakeOpenAI, Reply, Stall, Status
from tests.servers.llama import LlamaServer

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello to me"},
]


def client(server: FakeOpenAI, **options: object) -> openai.AsyncOpenAI:
    """An SDK client for the fake server that fails fast instead of retrying."""
    options.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", **options)


async def test_stream_sends_tokens_then_configured_usage(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(["Hel", "lo", " you"], usage=(11, 3), cached_tokens=4))
    async with client(fake_openai) as api:
        stream = await api.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello you"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks[1:-1]][-1] == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.prompt_tokens == 11
    assert usage_chunk.usage.completion_tokens == 3
    assert usage_chunk.usage.total_tokens == 14
    assert usage_chunk.usage.prompt_tokens_details is not None
    assert usage_chunk.usage.prompt_tokens_details.cached_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])

    request = fake_openai.last_request
    assert request.stream and request.messages == MESSAGES
    assert request.headers["authorization"] == "Bearer test"
    # Reading to [DONE] and hanging up is a normal end, not an abandoned stream.
    assert not await fake_openai.async_wait_for_disconnects(1, within=0.2)


async def test_stream_without_include_usage_has_no_usage(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(["a", "b"]))
    async with client(fake_openai) as api:
        stream = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        chunks = [chunk async for chunk in stream]

    assert all(c.choices and c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_plain_reply_counts_words_when_usage_unset(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(["Hi", " there", "!"]))
    async with client(fake_openai) as api:
        completion = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )

    assert completion.choices[0].message.content == "Hi there!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-4o-mini"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 6  # "Be brief." + "Say hello to me"
    assert completion.usage.completion_tokens == 3
    assert completion.usage.total_tokens == 9
    assert not fake_openai.last_request.stream


async def test_empty_queue_uses_default_behaviour(fake_openai: FakeOpenAI):
    fake_openai.default = Reply(["default"])
    fake_openai.enqueue(Reply(["scripted"]))
    async with client(fake_openai) as api:
        replies = [
            await api.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            for _ in range(3)
        ]

    contents = [r.choices[0].message.content for r in replies]
    assert contents == ["scripted", "default", "default"]
    assert fake_openai.request_count == 3
    assert fake_openai.queued == 0


async def test_models_endpoint_lists_the_models(fake_openai: FakeOpenAI):
    async with client(fake_openai) as api:
        models = await api.models.list()

    assert [m.id for m in models.data] == ["gpt-4o-mini"]
    assert fake_openai.request_count == 0


async def test_rate_limit_carries_retry_after(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Status(429, retry_after=7))
    async with client(fake_openai) as api:
        with pytest.raises(openai.RateLimitError) as caught:
            await api.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "7"
    assert error.code == "rate_limit_exceeded"
    assert fake_openai.request_count == 1


async def test_sdk_retries_after_retry_after(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Status(503, retry_after=0.05), Reply(["recovered"]))
    async with client(fake_openai, max_retries=1) as api:
        completion = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )

    assert completion.choices[0].message.content == "recovered"
    assert fake_openai.request_count == 2


async def test_cut_stream_gives_k_tokens_then_an_error(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Cut(["a", "b", "c", "d"], after=2))
    received: list[str] = []
    async with client(fake_openai) as api:
        stream = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APIConnectionError):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "ab"
    # The server hung up, so the client did not abandon anything.
    assert fake_openai.disconnects == 0


async def test_cut_plain_reply_is_an_error(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Cut(["never", " whole"]))
    async with client(fake_openai) as api:
        with pytest.raises(openai.APIConnectionError):
            await api.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


async def test_stalled_stream_times_out_and_is_abandoned(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Stall(seconds=30, tokens=["x"]))
    received: list[str] = []
    started = time.monotonic()
    async with client(fake_openai, timeout=0.3) as api:
        stream = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APITimeoutError):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")

    assert "".join(received) == "x"
    assert await fake_openai.async_wait_for_disconnects(1, within=1.0)
    assert time.monotonic() - started < 5


async def test_stalled_plain_request_times_out_and_is_abandoned(
    fake_openai: FakeOpenAI,
):
    fake_openai.enqueue(Stall(seconds=30))
    async with client(fake_openai, timeout=0.3) as api:
        with pytest.raises(openai.APITimeoutError):
            await api.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert await fake_openai.async_wait_for_disconnects(1, within=1.0)


async def test_closing_a_stream_early_counts_a_disconnect(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(["t"] * 500, delay=0.02))
    async with client(fake_openai) as api:
        stream = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        seen = 0
        async for _chunk in stream:
            seen += 1
            if seen == 3:
                break
        closed_at = time.monotonic()
        await stream.close()

        assert await fake_openai.async_wait_for_disconnects(1, within=1.0)
        assert time.monotonic() - closed_at < 1.0

        # The connection pool still works for the next request.
        fake_openai.enqueue(Reply(["next"]))
        completion = await api.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert completion.choices[0].message.content == "next"
    assert fake_openai.disconnects == 1


def test_sync_client_and_thread_hygiene():
    before = set(threading.enumerate())
    started = time.monotonic()
    with FakeOpenAI(default=Reply(["sync", " ok"])) as server:
        assert time.monotonic() - started < 0.5
        api = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        with api:
            stream = api.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream)
        assert text == "sync ok"
        assert server.wait_for_requests(1, within=0.1)
    assert set(threading.enumerate()) <= before


async def test_langchain_streams_usage_from_the_fake(fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(["Lang", "Chain"], usage=(5, 2), cached_tokens=1))
    model = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=fake_openai.base_url,
        api_key="test",
        max_retries=0,
        stream_usage=True,
    )
    total = None
    async for chunk in model.astream("hi"):
        total = chunk if total is None else total + chunk

    assert total is not None
    assert total.content == "LangChain"
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 5
    assert total.usage_metadata["output_tokens"] == 2
    assert total.usage_metadata.get("input_token_details", {}).get("cache_read") == 1


@pytest.mark.llama
async def test_llama_streams_and_reports_usage(llama_server: LlamaServer):
    async with openai.AsyncOpenAI(
        base_url=llama_server.base_url, api_key="test", max_retries=0, timeout=60
    ) as api:
        stream = await api.chat.completions.create(
            model=llama_server.model,
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=12,
            temperature=0,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
        completion = await api.chat.completions.create(
            model=llama_server.model,
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=8,
            temperature=0,
        )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in {"stop", "length"}
    assert completion.choices[0].message.content
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 8
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
