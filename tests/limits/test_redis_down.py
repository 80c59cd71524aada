"""Redis unreachable: new turns are refused with `busy` and a retry time (fail
closed) unless CHAT_LIMITS_ON_REDIS_ERROR is "local"; bookkeeping for turns already
admitted never raises, and their leases lapse on their own."""

import json
import logging

import pytest
import redis.asyncio as redis

from chat import protocol
from chat.errors import Busy
from chat.limits import LimitsUnavailable, budget_status, note_provider_429
from chat.limits.backends.redis import RedisBackend
from tests.limits.conftest import admit_one, policy

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1

pytestmark = pytest.mark.parametrize("limits", ["redis"], indirect=True)


@pytest.fixture
def redis_down(limits, settings):
    settings.REDIS_URL = DOWN


async def test_new_turns_are_refused_with_busy_and_a_retry_time(redis_down, caplog):
    with caplog.at_level(logging.WARNING, "chat.limits"):
        with pytest.raises(LimitsUnavailable) as refused:
            await admit_one(policy=policy())
    frame = json.loads(protocol.dumps(protocol.error_frame(refused.value)))
    assert frame["code"] == "busy"
    assert frame["retry_after"] == 5.0
    assert "can't be checked" in frame["message"]
    assert "Connection" not in frame["message"]
    assert "refusing" in caplog.text


async def test_local_fallback_keeps_limits_in_this_process(redis_down, settings):
    settings.CHAT_LIMITS_ON_REDIS_ERROR = "local"
    one = policy(max_concurrent=1)
    admission = await admit_one(policy=one)
    assert admission.backend.name == "memory"
    with pytest.raises(Busy) as refused:
        await admit_one(policy=one)
    assert refused.value.detail == "in_flight"
    await admission.settle(input_tokens=1, output_tokens=1)
    again = await admit_one(policy=one)
    await again.settle()


async def test_admitted_turns_settle_quietly_when_redis_goes_away(limits, caplog):
    admission = await admit_one(policy=policy())
    broken = redis.Redis.from_url(DOWN, socket_connect_timeout=1)
    admission.backend = RedisBackend(broken)
    with caplog.at_level(logging.WARNING, "chat.limits"):
        await admission.settle(input_tokens=10, output_tokens=10)
    assert admission.settled
    assert "not settled" in caplog.text
    await broken.aclose()


async def test_pauses_and_budget_display_do_not_raise(redis_down):
    assert await note_provider_429("https://provider.test/v1", 5) is None
    assert await budget_status(user=1, policy=policy(tokens_per_day=10)) == []
