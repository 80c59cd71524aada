"""Bills without the provider's usage: exact counts from tiktoken's bundled files or
the model server's own tokenizer, the estimate only as a last resort, capped at the
request's max_tokens."""

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from chat.llm import usage_count
from chat.llm.streaming import Usage
from chat.llm.tokens import CONSERVATIVE, count_messages, estimate, load_encoding
from chat.llm.usage_count import billed_usage

ROOT = Path(__file__).resolve().parents[2]
CORPUS = [
    json.loads(line)
    for line in (ROOT / "tests/data/token_corpus.jsonl").read_text("utf-8").splitlines()
]
PROMPT = [
    SystemMessage("You are a helpful assistant."),
    HumanMessage("Tell me about the sea."),
    AIMessage("The sea is large."),
    HumanMessage("And rivers?"),
]
LONG = " ".join(["Rivers carry water from the hills to the sea."] * 200)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, settings):
    monkeypatch.setattr(usage_count, "_servers", {})
    monkeypatch.setattr(usage_count, "_bos_tokens", {})
    settings.CHAT_MODELS = ""
    settings.CHAT_MODELS_FILE = ""
    settings.OPENAI_API_KEY = "sk-test-usage"


async def test_the_providers_own_usage_is_kept():
    provider = Usage(input_tokens=10, output_tokens=5)
    usage = await billed_usage(
        model="gpt-4o-mini",
        endpoint="https://api.openai.com/v1",
        messages=PROMPT,
        text=LONG,
        provider=provider,
    )
    assert usage is provider


async def test_openai_models_are_counted_exactly_from_the_bundled_encoding(settings):
    settings.LLM_MAX_TOKENS = 100_000
    encoding = load_encoding("o200k_base", "/nonexistent")
    usage = await billed_usage(
        model="gpt-4o-mini",
        endpoint="https://api.openai.com/v1",
        messages=PROMPT,
        text=LONG,
    )
    assert usage.estimated is False
    assert usage.output_tokens == len(encoding.encode_ordinary(LONG))
    assert usage.input_tokens == count_messages(PROMPT, "gpt-4o-mini")


async def test_exact_counts_are_capped_at_max_tokens_too(settings):
    settings.LLM_MAX_TOKENS = 50
    usage = await billed_usage(
        model="gpt-4o-mini", endpoint="x", messages=PROMPT, text=LONG
    )
    assert usage.output_tokens == 50


async def test_a_call_that_failed_before_any_text_bills_nothing():
    usage = await billed_usage(
        model="gpt-4o-mini",
        endpoint="x",
        messages=PROMPT,
        text="",
        failed_before_text=True,
    )
    assert (usage.input_tokens, usage.output_tokens) == (0, 0)


async def test_a_server_without_a_tokenizer_is_estimated_capped_and_asked_once(
    settings, fake_openai
):
    settings.LLM_MAX_TOKENS = 64
    for _ in range(2):
        usage = await billed_usage(
            model="smollm2", endpoint=fake_openai.base_url, messages=PROMPT, text=LONG
        )
        assert usage.estimated is True
        assert usage.output_tokens == 64 < estimate(LONG, CONSERVATIVE)
        assert usage.input_tokens == count_messages(PROMPT, "smollm2")
    # Both tokenize dialects were tried once, then remembered as absent.
    assert usage_count._servers == {fake_openai.base_url.removesuffix("/v1"): None}


async def test_a_down_server_is_estimated_and_asked_again_later(settings):
    settings.LLM_MAX_TOKENS = 100_000
    usage = await billed_usage(
        model="smollm2", endpoint="http://127.0.0.1:9/v1", messages=PROMPT, text="Hi"
    )
    assert usage.estimated is True
    assert usage_count._servers == {}


@pytest.mark.llama
async def test_the_local_model_is_counted_exactly_by_its_own_server(
    settings, llama_server
):
    settings.LLM_MAX_TOKENS = 100_000
    for sample in CORPUS[::7]:
        usage = await billed_usage(
            model="smollm2",
            endpoint=llama_server.base_url,
            messages=None,
            text=sample["text"],
        )
        assert usage.estimated is False
        assert usage.output_tokens == sample["counts"]["smollm2"], sample["id"]
    usage = await billed_usage(
        model="smollm2", endpoint=llama_server.base_url, messages=PROMPT, text="Hi"
    )
    assert usage.estimated is False
    # ChatML framing (4) and role (1) per message, plus the reply's priming (3).
    assert usage.input_tokens < count_messages(PROMPT, "smollm2")
    assert usage.input_tokens >= 3 + 5 * len(PROMPT) + len(PROMPT)
