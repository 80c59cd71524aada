import asyncio

import pytest

from chat.errors import RateLimited
from chat.limits import RateRule
from chat.limits.upstream import upstream_state
from tests.limits.conftest import ENDPOINT, admit_one, policy


async def test_limits_switched_off_admit_everything(limits, settings):
    settings.CHAT_LIMITS_ENABLED = False
    blocked = policy(rate_rules=(RateRule(0, 60),), max_concurrent=0)
    admissions = [await admit_one(policy=blocked) for _ in range(3)]
    assert {admission.backend for admission in admissions} == {None}
    for admission in admissions:
        await admission.settle()


async def test_upstream_can_be_awaited_after_the_user_checks(limits, settings):
    """A turn can be admitted, look up the cache, and only then queue upstream."""
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = 1
    admission = await admit_one(policy=policy(), wait_upstream=False)
    assert admission.upstream is None
    assert (await upstream_state(ENDPOINT)).inflight == 0
    await admission.wait_upstream()
    assert admission.upstream is not None
    assert (await upstream_state(ENDPOINT)).inflight == 1
    await admission.settle()
    assert (await upstream_state(ENDPOINT)).inflight == 0


async def test_a_refused_turn_leaves_nothing_behind(limits):
    limited = policy(rate_rules=(RateRule(1, 60),), max_concurrent=1)
    admission = await admit_one(policy=limited)
    with pytest.raises(RateLimited):
        await admit_one(policy=limited)
    await admission.settle()
    state = await upstream_state(ENDPOINT)
    assert (state.queued, state.inflight) == (0, 0)


async def test_cancelled_during_the_user_check_takes_nothing(limits):
    one = policy(max_concurrent=1)
    for _ in range(20):
        task = asyncio.create_task(admit_one(policy=one, wait_upstream=False))
        await asyncio.sleep(0)
        task.cancel()
        try:
            admission = await task
        except asyncio.CancelledError:
            continue
        await admission.settle()
    # Whatever the moment of cancelling, no slot was kept.
    admission = await admit_one(policy=one)
    await admission.settle()
