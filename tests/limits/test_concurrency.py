import asyncio
import gc
from datetime import UTC, datetime

import pytest

from chat.errors import Busy
from chat.limits import budget_status
from chat.limits.clock import ManualClock
from chat.limits.upstream import upstream_state
from tests.limits.conftest import ENDPOINT, admit_one, eventually, policy


async def test_one_reply_in_flight_per_user(limits):
    one = policy(max_concurrent=1)
    first = await admit_one(policy=one)
    with pytest.raises(Busy) as refused:
        await admit_one(policy=one)
    assert refused.value.detail == "in_flight"
    assert refused.value.code == "busy"
    other_user = await admit_one(2, policy=one)
    await first.settle()
    second = await admit_one(policy=one)
    await second.settle()
    await other_user.settle()


async def test_concurrency_limit_from_settings(limits, settings, ledger):
    settings.CHAT_MAX_CONCURRENT_REPLIES = 2
    held = [await admit_one(), await admit_one()]
    with pytest.raises(Busy):
        await admit_one()
    for admission in held:
        await admission.settle()


async def test_cancelled_while_queued_gives_the_slot_back(limits, settings):
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    one = policy(max_concurrent=1)
    holder = await admit_one(9, policy=one)
    positions = []

    async def record(position):
        positions.append(position)

    waiting = asyncio.create_task(admit_one(1, policy=one, on_queue=record))
    await eventually(lambda: positions == [1])
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert (await upstream_state(ENDPOINT)).queued == 0
    again = await admit_one(1, policy=one, wait_upstream=False)
    await again.settle()
    await holder.settle()


async def test_a_dead_process_slot_lapses_and_its_hold_is_charged(
    limits, settings, ledger
):
    settings.CHAT_LIMITS_LEASE_SECONDS = 30
    clock = ManualClock(datetime(2025, 5, 1, 12, tzinfo=UTC))
    budget = policy(max_concurrent=1, tokens_per_day=1000)
    admission = await admit_one(policy=budget, clock=clock)
    # The process dies: no more heartbeats, and no settle.
    admission._heartbeat.cancel()
    del admission
    gc.collect()
    with pytest.raises(Busy):
        await admit_one(policy=budget, clock=clock)
    clock.advance(30)
    after = await admit_one(policy=budget, clock=clock)
    (day,) = await budget_status(user=1, policy=budget, clock=clock)
    # The dead one's whole reservation (10 + 90) is charged; the new one is held.
    assert (day.tokens_used, day.tokens_held) == (100, 100)
    await after.settle(input_tokens=10, output_tokens=5)
    (day,) = await budget_status(user=1, policy=budget, clock=clock)
    assert (day.tokens_used, day.tokens_held) == (115, 0)


async def test_heartbeat_keeps_a_long_reply_in_flight(limits, settings):
    settings.CHAT_LIMITS_LEASE_SECONDS = 0.3
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    one = policy(max_concurrent=1)
    admission = await admit_one(policy=one)
    await asyncio.sleep(0.8)  # well past the lease: renewed every 0.1 s
    with pytest.raises(Busy):
        await admit_one(policy=one, wait_upstream=False)
    assert (await upstream_state(ENDPOINT)).inflight == 1
    await admission.settle()
    assert (await upstream_state(ENDPOINT)).inflight == 0
    later = await admit_one(policy=one)
    await later.settle()
