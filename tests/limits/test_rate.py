import json
from datetime import UTC, datetime

import pytest

from chat import protocol
from chat.errors import RateLimited
from chat.limits import RateRule
from chat.limits.clock import ManualClock
from tests.limits.conftest import admit_one, policy

START = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(START)


async def send(clock, rules, user=1):
    admission = await admit_one(user, policy=policy(rate_rules=rules), clock=clock)
    await admission.settle()


async def test_admits_up_to_the_limit_then_says_exactly_when(limits, clock):
    rules = (RateRule(3, 60),)
    for _ in range(3):
        await send(clock, rules)
        clock.advance(10)
    with pytest.raises(RateLimited) as refused:
        await send(clock, rules)
    # The first request (at 0 s) leaves the window at 60 s; it is now 30 s.
    assert refused.value.retry_after == pytest.approx(30)
    assert "30 seconds" in refused.value.message
    frame = json.loads(protocol.dumps(protocol.error_frame(refused.value)))
    assert frame["code"] == "rate_limited"
    assert frame["retry_after"] == 30.0


async def test_window_slides_one_request_at_a_time(limits, clock):
    rules = (RateRule(2, 60),)
    await send(clock, rules)
    clock.advance(10)
    await send(clock, rules)
    clock.advance(50.001)  # the first has just left the window
    await send(clock, rules)
    with pytest.raises(RateLimited) as refused:
        await send(clock, rules)
    assert refused.value.retry_after == pytest.approx(10 + 60 - 60.001)


async def test_refused_requests_do_not_count(limits, clock):
    rules = (RateRule(1, 60),)
    await send(clock, rules)
    for _ in range(5):
        clock.advance(5)
        with pytest.raises(RateLimited):
            await send(clock, rules)
    clock.advance(35)  # 60 s after the only admitted request
    await send(clock, rules)


async def test_every_rule_must_allow(limits, clock):
    rules = (RateRule(2, 10), RateRule(3, 100))
    for _ in range(2):
        await send(clock, rules)
    with pytest.raises(RateLimited) as refused:
        await send(clock, rules)
    assert refused.value.retry_after == pytest.approx(10)
    clock.advance(10)
    await send(clock, rules)
    clock.advance(10)
    with pytest.raises(RateLimited) as refused:
        await send(clock, rules)
    # The short window allows it now; the long one only at 100 s.
    assert refused.value.retry_after == pytest.approx(80)


async def test_zero_allows_nothing_for_a_whole_window(limits, clock):
    with pytest.raises(RateLimited) as refused:
        await send(clock, (RateRule(0, 60),))
    assert refused.value.retry_after == pytest.approx(60)


async def test_users_have_separate_limits(limits, clock):
    rules = (RateRule(1, 60),)
    await send(clock, rules, user=1)
    await send(clock, rules, user=2)
    with pytest.raises(RateLimited):
        await send(clock, rules, user=1)


async def test_default_rules_come_from_settings(limits, settings, clock):
    settings.CHAT_RATE_LIMITS = ["1/1m"]
    settings.CHAT_MAX_CONCURRENT_REPLIES = 5
    from chat.limits.policies import default_policy

    await send(clock, default_policy().rate_rules)
    with pytest.raises(RateLimited):
        await send(clock, default_policy().rate_rules)
