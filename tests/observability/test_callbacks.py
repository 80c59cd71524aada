"""CallMeter: what it measures of a model call is what the turn stores in the
ledger, on the turn's own streaming path."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from langchain_core.messages import HumanMessage

from chat.errors import ProviderUnavailable
from chat.llm.demo import DemoChatModel
from chat.llm.streaming import StreamStats, stream_text
from chat.observability.callbacks import CallMeter
from tests.fakes import FakeStreamingChatModel


def ticking_clock(step: float = 0.010):
    """A clock that advances 10 ms per reading, so timings are exact."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def config(meter: CallMeter) -> dict:
    return {
        "run_name": "chat_reply",
        "tags": ["chat"],
        "metadata": {"turn_id": "t1"},
        "callbacks": [meter],
    }


async def drain(model, meter: CallMeter, stats: StreamStats | None = None) -> str:
    stats = stats or StreamStats()
    pieces = [
        piece
        async for piece in stream_text(
            model, [HumanMessage("hi")], config(meter), stats
        )
    ]
    return "".join(pieces)


async def test_measures_a_streamed_call_like_the_stream_does():
    model = FakeStreamingChatModel(calls=[], usage=(11, 4), cached_input=3)
    meter, stats = CallMeter(), StreamStats()
    assert await drain(model, meter, stats) == "Hello, world!"
    call = meter.last
    assert len(meter.calls) == 1
    assert call.outcome == "complete"
    assert call.run_id == stats.run_id != ""
    assert call.usage == stats.usage
    assert (call.usage.input_tokens, call.usage.output_tokens) == (11, 4)
    assert call.usage.cached_input_tokens == 3
    assert call.model == ""  # the fake model reports no model name
    assert 0 <= call.ttft_ms <= call.duration_ms


async def test_time_to_first_token_is_the_first_text_not_the_first_chunk():
    clock = ticking_clock()
    model = FakeStreamingChatModel(calls=[], tokens=["", "", "Hi", " there"])
    meter = CallMeter(clock=clock)
    await drain(model, meter)
    call = meter.last
    # Readings: start (0), then the first non-empty token (1), then the end (2).
    assert (call.ttft_ms, call.duration_ms) == (10, 20)


async def test_a_provider_failure_is_recorded_with_its_class():
    model = FakeStreamingChatModel(calls=[], fail_after=2)
    meter = CallMeter()
    with pytest.raises(ProviderUnavailable):
        await drain(model, meter)
    call = meter.last
    assert call.outcome == "failed"
    assert call.error == "ProviderUnavailable"
    assert call.ttft_ms is not None and call.duration_ms is not None
    assert call.usage is None


async def test_a_stop_is_recorded_as_cancelled():
    model = FakeStreamingChatModel(calls=[], tokens=["a"] * 50, delay=0.01)
    meter = CallMeter()
    task = asyncio.create_task(drain(model, meter))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert meter.last.outcome == "cancelled"
    assert meter.last.error == ""


async def test_no_usage_from_the_provider_leaves_usage_unknown():
    model = FakeStreamingChatModel(calls=[], usage=None)
    meter = CallMeter()
    await drain(model, meter)
    assert meter.last.usage is None
    assert meter.last.outcome == "complete"


async def test_the_demo_model_is_measured_too():
    meter = CallMeter()
    text = await drain(DemoChatModel(delay_ms=0), meter)
    assert "demo model" in text
    assert meter.last.ttft_ms is not None
    assert meter.last.outcome == "complete"


async def test_a_token_after_the_first_changes_nothing():
    """The per-token path after the first token is one dict lookup, no writes."""
    meter = CallMeter(clock=ticking_clock())
    await drain(FakeStreamingChatModel(calls=[], tokens=["x"] * 200), meter)
    # 3 clock readings for 200 tokens: start, first token, end.
    assert meter.last.duration_ms == 20
