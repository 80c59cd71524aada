"""The turn's side of the cache: slots, the storing policy, replay, scope isolation
and a failing store that turns into misses."""

import asyncio
import logging
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage, SystemMessage

from chat.cache import stats
from chat.cache.backends import get_backend
from chat.cache.replies import (
    CachedReply,
    cache_slot,
    replay,
    replay_pieces,
    reply_lookup,
    reply_store,
)
from chat.llm.streaming import Usage
from chat.models import Message
from tests.cache.conftest import closed_port

PARAMS = {"temperature": 0.0, "max_tokens": 64, "provider": "fake"}
TEXT = "The answer is **42**.\n\nAnything else?"
USAGE = Usage(input_tokens=120, output_tokens=9, cached_input_tokens=100)


@pytest.fixture
def user():
    """Only a user's primary key reaches the cache."""
    return SimpleNamespace(pk=1)


@pytest.fixture
def other_user():
    return SimpleNamespace(pk=2)


def messages(question="What is the answer?", canary="c-0001"):
    return [SystemMessage(f"Be brief. Canary {canary}."), HumanMessage(question)]


def slot_for(user, *, canary="c-0001", question="What is the answer?", **params):
    return cache_slot(
        user=user,
        model="gpt-4o-mini",
        params={**PARAMS, **params},
        messages=messages(question, canary),
        canary=canary,
    )


async def store_complete(slot, text=TEXT):
    return await reply_store(
        slot, text=text, usage=USAGE, status=Message.Status.COMPLETE, filtered=False
    )


async def test_miss_then_hit_with_text_and_original_usage(store, user):
    slot = slot_for(user)
    assert await reply_lookup(slot) is None
    assert await store_complete(slot) is True
    hit = await reply_lookup(slot)
    assert hit.text == TEXT
    assert hit.usage == Usage(120, 9, 100, estimated=False)
    assert stats.cache_counters() | {} == {
        "hits": 1,
        "misses": 1,
        "stores": 1,
        "skipped": 0,
        "bypassed": 0,
        "errors": 0,
    }


async def test_next_turn_with_a_new_canary_hits(user):
    await store_complete(slot_for(user, canary="c-aaaa"))
    hit = await reply_lookup(slot_for(user, canary="c-bbbb"))
    assert hit is not None and hit.text == TEXT


async def test_user_b_never_gets_user_as_reply(store, user, other_user):
    await store_complete(slot_for(user))
    assert await reply_lookup(slot_for(other_user)) is None
    assert (await reply_lookup(slot_for(user))).text == TEXT


async def test_shared_scope_serves_every_user(settings, user, other_user):
    settings.CHAT_CACHE_SCOPE = "shared"
    await store_complete(slot_for(user))
    assert (await reply_lookup(slot_for(other_user))).text == TEXT


@pytest.mark.parametrize(
    "status",
    [
        Message.Status.CANCELLED,
        Message.Status.INTERRUPTED,
        Message.Status.FILTERED,
        Message.Status.FAILED,
        Message.Status.STREAMING,
    ],
)
async def test_only_complete_replies_are_stored(user, status):
    slot = slot_for(user)
    stored = await reply_store(
        slot, text="partial", usage=USAGE, status=status, filtered=False
    )
    assert stored is False
    assert await reply_lookup(slot) is None
    assert stats.cache_counters()["skipped"] == 1


async def test_a_reply_the_output_filter_changed_is_not_stored(user):
    slot = slot_for(user)
    stored = await reply_store(
        slot, text=TEXT, usage=USAGE, status=Message.Status.COMPLETE, filtered=True
    )
    assert stored is False and await reply_lookup(slot) is None


async def test_an_empty_reply_is_not_stored(user):
    assert await store_complete(slot_for(user), text="") is False


def test_no_slot_above_the_temperature_limit(settings, user):
    settings.CHAT_CACHE_MAX_TEMPERATURE = 0.5
    assert slot_for(user, temperature=0.5) is not None
    assert slot_for(user, temperature=0.7) is None
    # No temperature sent: the provider's default (1.0) applies.
    params = {k: v for k, v in PARAMS.items() if k != "temperature"}
    assert cache_slot(user=user, model="m", params=params, messages=[]) is None
    assert stats.cache_counters()["bypassed"] == 2


def test_no_slot_when_the_cache_is_off(settings, user):
    settings.CHAT_CACHE_BACKEND = "off"
    assert slot_for(user) is None


async def test_prompt_version_change_is_a_miss(settings, user):
    await store_complete(slot_for(user))
    settings.LLM_PROMPT_VERSION = "next"
    assert await reply_lookup(slot_for(user)) is None


async def test_entry_expires_after_the_ttl(settings, store, user):
    settings.CHAT_CACHE_TTL = 0.05
    slot = slot_for(user)
    await store_complete(slot)
    assert await reply_lookup(slot) is not None
    await asyncio.sleep(0.1)
    assert await reply_lookup(slot) is None


def test_an_unreadable_value_is_a_miss():
    assert CachedReply.loads("not json") is None
    assert CachedReply.loads('{"kind": "generations", "items": []}') is None
    assert CachedReply.loads('{"kind": "reply", "text": "x", "extra": 1}') is None


@given(st.text())
def test_replay_pieces_join_back_to_the_text(text):
    assert "".join(replay_pieces(text)) == text


def test_replay_pieces_are_token_sized():
    pieces = replay_pieces("The quick brown fox jumps over the lazy dog. " * 20)
    sizes = [len(p) for p in pieces]
    assert max(sizes) <= 7 and sum(sizes) / len(sizes) < 6


async def test_replay_streams_the_text_without_delay():
    loop = asyncio.get_running_loop()
    started = loop.time()
    pieces = [piece async for piece in replay(TEXT * 100)]
    assert "".join(pieces) == TEXT * 100
    assert len(pieces) > 100
    assert loop.time() - started < 0.5


async def test_redis_stopped_mid_test_is_a_miss_logged_once(
    settings, redis_proxy, user, caplog
):
    settings.CHAT_CACHE_BACKEND = "redis"
    slot = slot_for(user)
    await store_complete(slot)
    assert (await reply_lookup(slot)).text == TEXT
    await redis_proxy.cut()
    caplog.set_level(logging.INFO, logger="chat.cache")
    for _ in range(3):
        assert await reply_lookup(slot) is None
        assert await store_complete(slot) is False
    counters = stats.cache_counters()
    assert counters["errors"] == 6
    assert counters["misses"] == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "uncached" in warnings[0].getMessage()


async def test_cache_recovers_when_redis_is_back(
    settings, redis_namespace, user, caplog
):
    settings.CHAT_CACHE_BACKEND = "redis"
    real = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    slot = slot_for(user)
    assert await reply_lookup(slot) is None
    caplog.set_level(logging.INFO, logger="chat.cache")
    settings.REDIS_URL = real
    assert await store_complete(slot) is True
    assert (await reply_lookup(slot)).text == TEXT
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_a_hung_store_is_a_miss_after_the_timeout(settings, user, monkeypatch):
    settings.CHAT_CACHE_TIMEOUT = 0.05
    backend = get_backend()

    async def hang(key):
        await asyncio.sleep(10)

    monkeypatch.setattr(backend, "aget", hang)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await reply_lookup(slot_for(user)) is None
    assert loop.time() - started < 1
    assert stats.cache_counters()["errors"] == 1
