"""Catalogue entries become chat models through LangChain's init_chat_model."""

from __future__ import annotations

import pytest

from chat.catalogue.store import catalogue_sync
from chat.errors import ProviderUnavailable
from chat.llm.bounded_stream import BoundedChatOpenAI
from chat.llm.chat_models import build_entry_model
from chat.llm.transport import PerLoopAiohttpTransport
from tests.catalogue.conftest import make_entry


def test_an_openai_compatible_entry_is_built_with_its_endpoint_and_caps(db, settings):
    settings.LLM_HTTP_CLIENT = "aiohttp"
    make_entry("house", base_url="http://models.internal/v1", max_output_tokens=300)
    entry = catalogue_sync().get("house")
    model = build_entry_model(entry, temperature=0.1, max_tokens=9999)
    # The environment's model's class: streams hold a bounded number of chunks.
    assert type(model) is BoundedChatOpenAI
    assert model.openai_api_base == "http://models.internal/v1"
    assert (model.model_name, model.temperature, model.max_tokens) == (
        "house-model",
        0.1,
        300,  # never above the entry's own cap
    )
    assert model.max_retries == 0 and model.stream_usage is True
    assert model.stream_chunk_timeout is None
    assert model.extra_body == {"max_tokens": 300}
    # aiohttp under the SDK, as for the environment's model.
    assert isinstance(model.http_async_client._transport, PerLoopAiohttpTransport)


def test_a_provider_whose_package_is_missing_is_unavailable_with_a_hint(db):
    try:
        import langchain_anthropic  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("langchain-anthropic is installed here")
    make_entry("claude", provider="anthropic", model="claude-sonnet-4-5")
    with pytest.raises(ProviderUnavailable) as caught:
        build_entry_model(catalogue_sync().get("claude"))
    assert "install" in caught.value.detail
