"""Provider faults seen by a deployment of two processes: the circuit breaker and a
provider's Retry-After hold for every process through Redis. (Faults within one
process are covered by tests/llm/test_failover.py.)"""

import asyncio

import pytest

from tests.resilience.sse_client import text_of
from tests.resilience.stack import sse_turn, two_processes
from tests.servers.fake_openai import Reply, Status

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(60, func_only=True),
]


def error_of(events) -> dict:
    errors = [e.data for e in events if e.name == "error"]
    assert len(errors) == 1, events
    return errors[0]


async def test_a_breaker_opened_on_one_process_fails_fast_on_the_other(
    stack, fake_openai
):
    fake_openai.default = Status(500)
    env = {
        "CHAT_BREAKER_FAILURES": 2,
        "CHAT_BREAKER_COOLDOWN": 4,
        "LLM_MAX_RETRIES": 0,
    }
    _, _, on_a, on_b = await two_processes(stack, **env)
    for _ in range(2):
        events = await sse_turn(on_a, "Hello?")
        assert error_of(events)["code"] == "provider_unavailable"
        assert events[-1].data["status"] == "failed"
    assert fake_openai.request_count == 2

    # Open for everyone: the other process fails fast, without calling.
    events = await sse_turn(on_b, "Hello?")
    assert error_of(events)["code"] == "provider_unavailable"
    assert fake_openai.request_count == 2

    # After the cool-down one probe goes through, and its success closes it.
    fake_openai.default = Reply(tokens=("back",))
    await asyncio.sleep(4.2)
    events = await sse_turn(on_b, "Hello?")
    assert text_of(events) == "back" and events[-1].data["status"] == "complete"
    events = await sse_turn(on_a, "Hello?")
    assert text_of(events) == "back"
    assert fake_openai.request_count == 4
    await on_a.aclose()
    await on_b.aclose()


async def test_a_long_retry_after_pauses_the_endpoint_for_every_process(
    stack, fake_openai
):
    fake_openai.default = Status(429, retry_after=30)
    # Processes share the limits, so a turn on the other process sees the pause
    # in the upstream queue: past the queue's maximum wait it is refused at once.
    env = {
        "LLM_MAX_RETRY_AFTER": 1,
        "LLM_MAX_RETRIES": 2,
        "CHAT_UPSTREAM_MAX_WAIT_SECONDS": 10,
    }
    _, _, on_a, on_b = await two_processes(stack, **env)
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await sse_turn(on_a, "Hello?")
    # Too long to wait: a fast, retryable failure that says when to come back.
    error = error_of(events)
    assert error["code"] == "provider_unavailable" and error["retry_after"] == 30
    assert loop.time() - started < 10
    assert fake_openai.request_count == 1
    # The other process does not ask the provider again meanwhile, and says when.
    started = loop.time()
    events = await sse_turn(on_b, "Hello?")
    error = error_of(events)
    assert error["code"] in ("provider_unavailable", "busy"), error
    assert error["retry_after"] >= 25
    assert loop.time() - started < 10
    assert fake_openai.request_count == 1
    await on_a.aclose()
    await on_b.aclose()
