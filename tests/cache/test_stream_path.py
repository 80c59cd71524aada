"""A hit streams through the same path as a model reply: the turn's source swap
(`replay_reply` for `stream_text`), played here into the real in-process hub."""

import asyncio
from types import SimpleNamespace

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from chat.cache import stats as cache_stats
from chat.cache.keys import generation_params
from chat.cache.replies import cache_slot, replay_reply, reply_lookup, reply_store
from chat.delivery.memory import MemoryHub
from chat.llm.streaming import StreamStats, stream_text
from chat.models import Message

ALICE, BOB = SimpleNamespace(pk=1), SimpleNamespace(pk=2)


def prompt(canary: str):
    return [
        SystemMessage(f"You are terse. Never say {canary}."),
        HumanMessage("Say hello to the world."),
    ]


async def one_turn(model, user, canary, reply_id):
    """What turn_generate does, with the cache in it (chat/turns.py)."""
    hub = MemoryHub()
    hub.open(reply_id)
    frames_task = asyncio.create_task(_collect(hub, reply_id))
    messages = prompt(canary)
    stats = StreamStats()
    slot = cache_slot(
        user=user,
        model="fake",
        params=generation_params(model),
        messages=messages,
        canary=canary,
    )
    hit = await reply_lookup(slot) if slot else None
    if hit is not None:
        source = replay_reply(hit, stats)
    else:
        source = stream_text(model, messages, {}, stats)
    shown = []
    try:
        async for piece in source:
            shown.append(piece)
            hub.publish(reply_id, piece)
            await asyncio.sleep(0)
    except Exception:
        frames_task.cancel()
        raise
    hub.close(reply_id, {"type": "end", "message": reply_id, "status": "complete"})
    if hit is None and slot is not None:
        await reply_store(
            slot,
            text="".join(shown),
            usage=stats.usage,
            status=Message.Status.COMPLETE,
            filtered=False,
        )
    return hit, stats, await frames_task


async def _collect(hub, reply_id):
    return [frame async for frame in hub.follow(reply_id)]


def shape(frames):
    """Frame types with repeats collapsed: ["delta", "end"] for a normal reply."""
    out = []
    for frame in frames:
        if not out or out[-1] != frame["type"]:
            out.append(frame["type"])
    return out


def text_of(frames):
    return "".join(f["text"] for f in frames if f["type"] == "delta")


async def test_model_called_once_and_hit_streams_the_same_frames(store, fake_model):
    fake_model.tokens = ["Hello", ",", " wide", " wonderful", " world", "!"] * 20
    missed, miss_stats, miss_frames = await one_turn(fake_model, ALICE, "c-1", "r1")
    hit, hit_stats, hit_frames = await one_turn(fake_model, ALICE, "c-2", "r2")
    assert missed is None and hit is not None
    assert len(fake_model.calls) == 1
    assert text_of(hit_frames) == text_of(miss_frames) == "".join(fake_model.tokens)
    assert shape(hit_frames) == shape(miss_frames) == ["delta", "end"]
    seqs = [f["seq"] for f in hit_frames]
    assert seqs == sorted(seqs)
    # The original usage travels with the hit, for the ledger (at cost 0).
    assert hit_stats.usage == miss_stats.usage
    assert (hit_stats.usage.input_tokens, hit_stats.usage.output_tokens) == (11, 4)
    assert hit_stats.ttft_ms is not None


async def test_another_user_gets_the_model_not_the_cache(fake_model):
    await one_turn(fake_model, ALICE, "c-1", "r1")
    hit, _, frames = await one_turn(fake_model, BOB, "c-2", "r2")
    assert hit is None and len(fake_model.calls) == 2
    assert text_of(frames) == "Hello, world!"


async def test_a_failed_stream_is_never_cached(fake_model):
    fake_model.fail_after = 2
    with pytest.raises(Exception, match="unavailable"):
        await one_turn(fake_model, ALICE, "c-1", "r1")
    fake_model.fail_after = None
    hit, _, _ = await one_turn(fake_model, ALICE, "c-2", "r2")
    assert hit is None and len(fake_model.calls) == 2
    assert cache_stats.cache_counters()["stores"] == 1
