"""Full turns over real HTTP: the openai SDK inside ChatOpenAI talks to a loopback
OpenAI-compatible server (a scripted fake, or llama.cpp with SmolLM2)."""

import json
import urllib.request
from decimal import Decimal

import pytest

from chat.llm.registry import cost, get_spec
from chat.models import Message, ModelCall
from tests.servers.fake_openai import Cut, Reply, Stall, Status
from tests.ws import connect, one_turn, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


async def test_streamed_usage_is_stored_exactly_and_priced(user, fake_openai, via):
    fake_openai.default = Reply(
        tokens=("The", " answer", " is", " 42."), usage=(1234, 56), cached_tokens=1000
    )
    via(fake_openai.base_url)
    start, frames = await one_turn(user)
    assert text_of(frames) == "The answer is 42."
    assert fake_openai.last_request.body["stream_options"] == {"include_usage": True}
    reply = await Message.objects.aget(pk=start["message"])
    assert (reply.input_tokens, reply.cached_input_tokens, reply.output_tokens) == (
        1234,
        1000,
        56,
    )
    assert reply.usage_estimated is False
    expected = cost(
        get_spec("gpt-4o-mini"),
        input_tokens=1234,
        cached_input_tokens=1000,
        output_tokens=56,
    )
    assert reply.cost == expected and expected > Decimal(0)
    call = await ModelCall.objects.aget(message=reply)
    assert call.endpoint == fake_openai.base_url and call.cost == expected


async def test_generation_parameters_reach_the_provider(user, fake_openai, via):
    via(fake_openai.base_url, LLM_TEMPERATURE=0.2, LLM_MAX_TOKENS=77)
    await one_turn(user)
    body = fake_openai.last_request.body
    assert body["stream"] is True and body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 77
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {"role": "user", "content": "Hello?"}


async def test_stop_closes_the_upstream_request(user, fake_openai, via):
    fake_openai.default = Reply(tokens=[f"t{i} " for i in range(300)], delay=0.02)
    via(fake_openai.base_url)
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    first = await comm.receive_json_from()
    assert first["type"] == "delta"
    await comm.send_json_to({"type": "stop", "message": start["message"]})
    frames = await read_reply(comm)
    await comm.disconnect()
    assert frames[-1]["status"] == "cancelled"
    assert await fake_openai.async_wait_for_disconnects(1, within=3)
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.status == "cancelled" and reply.output_tokens > 0


async def test_stream_cut_after_tokens_is_interrupted_and_kept(user, fake_openai, via):
    fake_openai.default = Cut(tokens=("one ", "two ", "three ", "four "), after=2)
    via(fake_openai.base_url, LLM_MAX_RETRIES=0)
    start, frames = await one_turn(user)
    assert frames[-1]["status"] == "interrupted"
    assert frames[-2]["code"] == "provider_unavailable"
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.content == "one two " and reply.status == "interrupted"
    # No usage from the provider: counted exactly with o200k_base ("one", " two", " ").
    assert not reply.usage_estimated and reply.output_tokens == 3


async def test_rate_limit_with_retry_after_is_retried_by_the_sdk(
    user, fake_openai, via
):
    fake_openai.enqueue(Status(429, retry_after=0.2))
    fake_openai.default = Reply(tokens=("fine",), usage=(5, 1))
    via(fake_openai.base_url, LLM_MAX_RETRIES=2)
    start, frames = await one_turn(user)
    assert frames[-1]["status"] == "complete" and text_of(frames) == "fine"
    assert fake_openai.request_count == 2
    assert not [f for f in frames if f["type"] == "error"]


async def test_provider_error_body_never_reaches_the_client(user, fake_openai, via):
    fake_openai.default = Status(
        500, body={"error": {"message": "secret internal detail sk-live-123"}}
    )
    via(fake_openai.base_url, LLM_MAX_RETRIES=0)
    start, frames = await one_turn(user)
    assert frames[-1]["status"] == "failed"
    assert frames[-2]["code"] == "provider_unavailable"
    assert "secret internal detail" not in json.dumps(frames)


async def test_stalled_provider_times_out(user, fake_openai, via):
    fake_openai.default = Stall(seconds=10)
    via(fake_openai.base_url, LLM_TIMEOUT=0.5, LLM_MAX_RETRIES=0)
    start, frames = await one_turn(user)
    assert frames[-2]["code"] == "timeout"
    assert frames[-1]["status"] == "failed"


@pytest.mark.llama
async def test_real_local_model_streams_and_is_billed_by_its_own_tokenizer(
    user, llama_server, via, settings, monkeypatch
):
    # The canary is random and so is its token count: fix it to rebuild the prompt.
    monkeypatch.setattr("chat.turns.make_canary", lambda: CANARY)
    via(
        llama_server.base_url,
        model="smollm2",
        LLM_MAX_TOKENS=48,
        LLM_TEMPERATURE=0.0,
        LLM_CONTEXT_WINDOW=2048,
    )
    start, frames = await one_turn(user, "Name three colours.")
    deltas = [f for f in frames if f["type"] == "delta"]
    assert len(deltas) >= 2, "the reply should arrive in several frames"
    end = frames[-1]
    assert end["status"] == "complete" and end["usage"]["estimated"] is False
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.content == text_of(frames) and reply.content.strip()

    # The server's own count for the same prompt and reply (non-streaming usage and
    # its tokenizer, which adds the model's BOS token if it has one).
    sent = [
        {"role": m["role"], "content": m["content"]}
        for m in json.loads(json.dumps(_prompt_of(reply)))
    ]
    prompt_tokens = _post(
        llama_server.base_url + "/chat/completions",
        {"model": "smollm2", "messages": sent, "max_tokens": 1},
    )["usage"]["prompt_tokens"]
    reply_tokens = len(
        _post(
            llama_server.base_url.removesuffix("/v1") + "/extras/tokenize",
            {"input": reply.content, "add_special": False},
        )["tokens"]
    )
    bos = len(
        _post(
            llama_server.base_url.removesuffix("/v1") + "/extras/tokenize",
            {"input": ""},
        )["tokens"]
    )
    assert reply.output_tokens == reply_tokens - bos
    assert abs(reply.input_tokens - prompt_tokens) <= 2


CANARY = "cnry-5a3f09c2e7b1"


def _prompt_of(reply):
    from chat.llm.prompts import system_messages

    system = system_messages(CANARY)[0].content
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Name three colours."},
    ]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
