"""The LangChain adapter: non-streaming calls share the store, keys and scope rule;
streaming calls never touch LangChain's cache (which is why the turn has its own)."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.globals import set_llm_cache
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult, Generation

from chat.cache import stats
from chat.cache.backends import get_backend
from chat.cache.keys import user_scope
from chat.cache.langchain_cache import LangChainCache, cache_scope_for
from tests.fakes import FakeStreamingChatModel

ALICE, BOB = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
PROMPT = [HumanMessage("Give this conversation a title.")]


class CountingModel(FakeStreamingChatModel):
    """Counts real generations (the fake's `calls` only sees streams)."""

    generated: list[int] = []
    temperature: float = 0.0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        self.generated.append(1)
        text = f"Title #{len(self.generated)}"
        message = AIMessage(
            text,
            usage_metadata={"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


@pytest.fixture
def global_cache():
    cache = LangChainCache()
    set_llm_cache(cache)
    yield cache
    set_llm_cache(None)


async def test_second_call_is_served_from_the_store(store):
    model = CountingModel(generated=[], cache=LangChainCache(scope=user_scope(1)))
    first = await model.ainvoke(PROMPT)
    second = await model.ainvoke(PROMPT)
    assert len(model.generated) == 1
    assert second.content == first.content == "Title #1"
    assert second.usage_metadata["output_tokens"] == 3
    counters = stats.cache_counters()
    assert (counters["hits"], counters["misses"], counters["stores"]) == (1, 1, 1)


def test_sync_calls_use_the_store_too(store):
    model = CountingModel(generated=[], cache=LangChainCache(scope="shared"))
    assert model.invoke(PROMPT).content == model.invoke(PROMPT).content
    assert len(model.generated) == 1


async def test_sync_call_inside_a_running_loop_still_works(store):
    """A sync invoke from async code (bad manners, but it happens) must not break."""
    model = CountingModel(generated=[], cache=LangChainCache(scope="shared"))
    model.invoke(PROMPT)
    model.invoke(PROMPT)
    assert len(model.generated) == 1


async def test_global_cache_is_scoped_per_user(global_cache):
    model = CountingModel(generated=[])
    with cache_scope_for(ALICE):
        await model.ainvoke(PROMPT)
        await model.ainvoke(PROMPT)
    with cache_scope_for(BOB):
        assert (await model.ainvoke(PROMPT)).content == "Title #2"
    assert len(model.generated) == 2


async def test_no_scope_means_no_caching_unless_shared(global_cache, settings):
    model = CountingModel(generated=[])
    await model.ainvoke(PROMPT)
    await model.ainvoke(PROMPT)
    assert len(model.generated) == 2
    assert stats.cache_counters()["bypassed"] == 4
    settings.CHAT_CACHE_SCOPE = "shared"
    await model.ainvoke(PROMPT)
    await model.ainvoke(PROMPT)
    assert len(model.generated) == 3


async def test_streaming_never_reads_langchains_cache(global_cache):
    model = CountingModel(generated=[], calls=[])
    with cache_scope_for(ALICE):
        await model.ainvoke(PROMPT)
        chunks = [c async for c in model.astream(PROMPT)]
    assert "".join(c.content for c in chunks) == "Hello, world!"
    assert len(model.calls) == 1
    assert stats.cache_counters()["hits"] == 0


async def test_entries_are_indexed_by_model_and_user(store):
    cache = LangChainCache(scope=user_scope(1))
    model = CountingModel(generated=[], cache=cache)
    await model.ainvoke(PROMPT)
    # The fake model has no model name: its entries are filed as "unknown".
    assert await get_backend().aclear(model="unknown", scope=user_scope(1)) == 1
    await model.ainvoke(PROMPT)
    assert len(model.generated) == 2


async def test_plain_generations_round_trip(store):
    cache = LangChainCache(scope="shared")
    value = [Generation(text="plain", generation_info={"finish_reason": "stop"})]
    await cache.aupdate("prompt", "llm", value)
    assert await cache.alookup("prompt", "llm") == value
    assert await cache.alookup("prompt", "other llm") is None


async def test_clear_through_the_adapter(store):
    cache = LangChainCache(scope="shared")
    await cache.aupdate("p", "llm", [Generation(text="x")])
    await cache.aclear()
    assert await cache.alookup("p", "llm") is None
    cache.update("p", "llm", [Generation(text="x")])
    cache.clear()
    assert cache.lookup("p", "llm") is None


async def test_temperature_above_the_limit_is_not_cached(settings):
    from langchain_openai import ChatOpenAI

    settings.CHAT_CACHE_MAX_TEMPERATURE = 0.5
    cache = LangChainCache(scope="shared")
    hot = ChatOpenAI(model="m", api_key="k", temperature=0.9)._get_llm_string()
    cold = ChatOpenAI(model="m", api_key="k", temperature=0.1)._get_llm_string()
    await cache.aupdate("p", hot, [Generation(text="x")])
    await cache.aupdate("p", cold, [Generation(text="y")])
    assert await cache.alookup("p", hot) is None
    assert (await cache.alookup("p", cold))[0].text == "y"
    assert await get_backend().aclear(model="m") == 1


async def test_a_failing_store_is_a_miss(settings, redis_namespace):
    from tests.cache.conftest import closed_port

    settings.CHAT_CACHE_BACKEND = "redis"
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    model = CountingModel(generated=[], cache=LangChainCache(scope="shared"))
    await model.ainvoke(PROMPT)
    await asyncio.to_thread(model.invoke, PROMPT)
    assert len(model.generated) == 2
    assert stats.cache_counters()["errors"] == 4
