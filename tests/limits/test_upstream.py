import asyncio
import json
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from chat import protocol
from chat.errors import Busy
from chat.limits import note_provider_429, retry_after_seconds
from chat.limits.backends import get_backend
from chat.limits.backends.base import OK, WAIT, UpstreamAsk
from chat.limits.clock import ManualClock
from chat.limits.keys import endpoint_keys
from chat.limits.upstream import upstream_state
from tests.limits.conftest import ENDPOINT, admit_one, eventually, policy


class Turn:
    """One user's admission, run as a task, with the positions it was told."""

    def __init__(self, user: int, served: list, **kwargs) -> None:
        self.user = user
        self.positions: list[int] = []
        self.admission = None

        async def run():
            self.admission = await admit_one(
                user, policy=policy(), on_queue=self.told, **kwargs
            )
            served.append(user)

        self.task = asyncio.create_task(run())

    async def told(self, position: int) -> None:
        self.positions.append(position)


async def test_queue_serves_in_arrival_order_telling_positions(limits, settings):
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    served = []
    first = Turn(1, served)
    await first.task
    second = Turn(2, served)
    await eventually(lambda: second.positions == [1])
    third = Turn(3, served)
    await eventually(lambda: third.positions == [2])
    await asyncio.sleep(0.1)  # a few polls: nobody jumps the queue
    assert served == [1]

    await first.admission.settle()
    await second.task
    await eventually(lambda: third.positions == [2, 1])
    assert served == [1, 2]
    await second.admission.settle()
    await third.task
    await third.admission.settle()

    assert served == [1, 2, 3]
    assert first.positions == []
    assert second.positions == [1, 0]
    assert third.positions == [2, 1, 0]


async def test_turn_past_the_maximum_wait_gets_busy(limits, settings):
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 0.3
    holder = await admit_one(1, policy=policy())
    started = time.monotonic()
    with pytest.raises(Busy) as refused:
        await admit_one(2, policy=policy(max_concurrent=1))
    assert 0.3 <= time.monotonic() - started < 2
    assert refused.value.detail == "max_wait"
    state = await upstream_state(ENDPOINT)
    assert (state.queued, state.inflight) == (0, 1)
    # Its user slot was given back too.
    again = await admit_one(2, policy=policy(max_concurrent=1), wait_upstream=False)
    await again.settle()
    await holder.settle()


async def test_full_queue_refuses_at_once(limits, settings):
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    settings.CHAT_UPSTREAM_QUEUE_MAX = 1
    served = []
    holder = await admit_one(1, policy=policy())
    waiter = Turn(2, served)
    await eventually(lambda: waiter.positions == [1])
    with pytest.raises(Busy) as refused:
        await admit_one(3, policy=policy())
    assert refused.value.detail == "queue_full"
    await holder.settle()
    await waiter.task
    await waiter.admission.settle()


async def test_provider_429_pauses_the_endpoint_for_every_turn(limits):
    paused = await note_provider_429(ENDPOINT, 0.5)
    assert paused == pytest.approx(0.5, abs=0.01)
    started = time.monotonic()
    served = []
    other_user = Turn(7, served)
    await eventually(lambda: other_user.positions == [1])
    # Another endpoint is not paused.
    elsewhere = await admit_one(8, policy=policy(), endpoint="https://other.test/v1")
    await elsewhere.settle()
    await other_user.task
    assert time.monotonic() - started >= 0.45
    assert other_user.positions == [1, 0]
    await other_user.admission.settle()


async def test_pause_longer_than_the_wait_allowed_fails_fast(limits, settings):
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 2
    await note_provider_429(ENDPOINT, 30)
    started = time.monotonic()
    with pytest.raises(Busy) as refused:
        await admit_one(policy=policy())
    assert time.monotonic() - started < 1
    assert refused.value.detail == "paused"
    assert refused.value.retry_after == pytest.approx(30, abs=1)
    frame = json.loads(protocol.dumps(protocol.error_frame(refused.value)))
    assert frame["code"] == "busy" and 29 <= frame["retry_after"] <= 30


async def test_pauses_only_ever_lengthen(limits, settings):
    settings.CHAT_UPSTREAM_MAX_PAUSE_SECONDS = 60
    assert await note_provider_429(ENDPOINT, 10) == pytest.approx(10, abs=0.1)
    assert await note_provider_429(ENDPOINT, 1) == pytest.approx(10, abs=0.1)
    assert await note_provider_429(ENDPOINT, 600) == pytest.approx(60, abs=0.1)
    assert await note_provider_429(ENDPOINT, None) == pytest.approx(60, abs=0.1)


async def test_requests_per_minute(limits, settings):
    settings.CHAT_UPSTREAM_RPM = 2
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 120
    clock = ManualClock(datetime(2025, 5, 1, 12, tzinfo=UTC))
    for _ in range(2):
        admission = await admit_one(1, policy=policy(), clock=clock)
        await admission.settle()
        clock.advance(1)
    served = []
    third = Turn(2, served, clock=clock)
    await eventually(lambda: third.positions == [1])
    await asyncio.sleep(0.1)
    assert served == []
    clock.advance(58.5)  # 60 s after the first request
    await third.task
    await third.admission.settle()


async def test_a_minute_window_past_the_wait_allowed_fails_fast(limits, settings):
    settings.CHAT_UPSTREAM_RPM = 1
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 5
    clock = ManualClock(datetime(2025, 5, 1, 12, tzinfo=UTC))
    admission = await admit_one(1, policy=policy(), clock=clock)
    await admission.settle()
    clock.advance(20)
    started = time.monotonic()
    with pytest.raises(Busy) as refused:
        await admit_one(2, policy=policy(), clock=clock)
    assert time.monotonic() - started < 1
    assert refused.value.detail == "per_minute"
    assert refused.value.retry_after == pytest.approx(40)
    assert "40 seconds" in refused.value.message


async def test_tokens_per_minute(limits, settings):
    settings.CHAT_UPSTREAM_TPM = 250
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 120
    clock = ManualClock(datetime(2025, 5, 1, 12, tzinfo=UTC))
    for _ in range(2):  # 100 tokens each (10 + 90)
        admission = await admit_one(1, policy=policy(), clock=clock)
        await admission.settle()
        clock.advance(1)
    served = []
    third = Turn(2, served, clock=clock)
    await eventually(lambda: third.positions == [1])
    clock.advance(59)  # the first leaves the window: 100 + 100 <= 250
    await third.task
    await third.admission.settle()
    # One request larger than the whole limit still goes, alone.
    clock.advance(61)
    big = await admit_one(3, policy=policy(), clock=clock, reply_cap=1000)
    await big.settle()


async def test_cache_hit_gives_back_its_share_of_the_minute(limits, settings):
    settings.CHAT_UPSTREAM_RPM = 1
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 0.2
    admission = await admit_one(1, policy=policy())
    await admission.settle(cache_hit=True)
    admission = await admit_one(1, policy=policy())
    await admission.settle()
    with pytest.raises(Busy):
        await admit_one(1, policy=policy())


async def test_a_waiter_that_stops_asking_loses_its_place(limits):
    backend = get_backend()
    keys = endpoint_keys(ENDPOINT)

    def ask(ticket, now, max_inflight=0):
        return UpstreamAsk(
            keys=keys,
            ticket=ticket,
            now=now,
            queue_max=10,
            waiter_until=now + 5,
            lease_until=now + 60,
            max_inflight=max_inflight,
            rpm=None,
            tpm=None,
            tokens=1,
        )

    now = time.time()
    assert (await backend.upstream_acquire(ask("gone", now))).outcome == WAIT
    behind = await backend.upstream_acquire(ask("alive", now + 1))
    assert (behind.outcome, behind.position) == (WAIT, 1)
    # "gone" has not asked again for 5 s: "alive" is first, and gets the slot.
    decision = await backend.upstream_acquire(ask("alive", now + 5.5, max_inflight=1))
    assert decision.outcome == OK
    await backend.upstream_release(keys=keys, ticket="alive", forget=None)


def test_retry_after_header_forms():
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "7"}) == 1.5
    when = format_datetime(datetime.fromtimestamp(time.time() + 30, UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": when}) == pytest.approx(30, abs=1.5)
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None
