"""Fault injection over real HTTP: retries, Retry-After, fallbacks, the circuit
breaker and deadlines, through the whole turn."""

import asyncio
import time

import pytest

from chat.llm.breaker import MemoryBreaker, get_breaker
from chat.models import Message, ModelCall
from chat.redis_client import get_redis
from tests.servers.fake_openai import FakeOpenAI, Reply, Stall, Status
from tests.ws import connect, one_turn, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_backoff(settings):
    settings.LLM_RETRY_BASE_DELAY = 0.01
    settings.LLM_RETRY_MAX_DELAY = 0.05
    settings.CHAT_BREAKER_FAILURES = 3
    settings.CHAT_BREAKER_COOLDOWN = 0.5


@pytest.fixture(autouse=True)
async def fresh_breaker():
    """No circuit state leaks between tests (in memory, or in Redis under CI)."""
    breaker = get_breaker()
    if isinstance(breaker, MemoryBreaker):
        breaker._states.clear()
    else:
        client = get_redis()
        keys = [key async for key in client.scan_iter(match="chat:breaker:*")]
        if keys:
            await client.delete(*keys)


async def test_retry_after_is_honoured_then_the_reply_arrives(user, fake_openai, via):
    fake_openai.enqueue(Status(429, retry_after=0.3))
    fake_openai.default = Reply(tokens=("ok",))
    via(fake_openai.base_url, LLM_MAX_RETRIES=2)
    started = time.monotonic()
    _, frames = await one_turn(user)
    assert time.monotonic() - started >= 0.3
    assert text_of(frames) == "ok" and frames[-1]["status"] == "complete"
    assert not [f for f in frames if f["type"] == "error"]


async def test_long_retry_after_fails_fast_and_says_when(user, fake_openai, via):
    fake_openai.default = Status(429, retry_after=120)
    via(fake_openai.base_url, LLM_MAX_RETRIES=3)
    started = time.monotonic()
    _, frames = await one_turn(user)
    assert time.monotonic() - started < 5
    error = frames[-2]
    assert error["code"] == "provider_unavailable" and error["retry_after"] == 120
    assert fake_openai.request_count == 1


async def test_primary_down_the_fallback_answers(user, fake_openai, via):
    fake_openai.default = Status(503)
    with FakeOpenAI(default=Reply(tokens=("from ", "fallback"))) as fallback:
        via(
            fake_openai.base_url,
            LLM_MAX_RETRIES=1,
            LLM_FALLBACKS=[f"gpt-4o@{fallback.base_url}"],
        )
        start, frames = await one_turn(user)
        assert fallback.request_count == 1
    assert text_of(frames) == "from fallback"
    assert fake_openai.request_count == 2  # the first try and one retry
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.model == "gpt-4o" and reply.status == "complete"
    # One ledger row per provider call: both failed tries, then the fallback's.
    calls = [c async for c in ModelCall.objects.filter(message=reply).order_by("id")]
    assert [(c.model, c.endpoint, c.status, c.error_code) for c in calls] == [
        ("gpt-4o-mini", fake_openai.base_url, "failed", "provider_unavailable"),
        ("gpt-4o-mini", fake_openai.base_url, "failed", "provider_unavailable"),
        ("gpt-4o", fallback.base_url, "complete", ""),
    ]


async def test_every_attempt_is_a_ledger_row_with_its_run_id(user, fake_openai, via):
    fake_openai.enqueue(Status(500), Stall(seconds=10))
    fake_openai.default = Reply(tokens=("ok",), usage=(7, 1))
    via(fake_openai.base_url, LLM_MAX_RETRIES=2, LLM_FIRST_TOKEN_TIMEOUT=1.5)
    start, frames = await one_turn(user)
    assert text_of(frames) == "ok" and fake_openai.request_count == 3
    calls = [
        c
        async for c in ModelCall.objects.filter(message_id=start["message"]).order_by(
            "id"
        )
    ]
    assert [(c.status, c.error_code) for c in calls] == [
        ("failed", "provider_unavailable"),
        ("failed", "timeout"),
        ("complete", ""),
    ]
    assert all(c.run_id for c in calls) and len({c.run_id for c in calls}) == 3
    # A call that failed before any text is not billed; the answer is.
    assert [(c.input_tokens, c.output_tokens, c.cost) for c in calls[:2]] == [
        (0, 0, 0),
        (0, 0, 0),
    ]
    assert (calls[2].input_tokens, calls[2].output_tokens) == (7, 1)
    assert calls[1].duration_ms >= 1400  # the 1.5 s wait, less clock slack


async def test_repeated_5xx_open_the_breaker_then_a_probe_closes_it(
    user, fake_openai, via
):
    fake_openai.default = Status(500)
    # Longer than a turn on a loaded machine, so the circuit is still open at the 4th.
    via(fake_openai.base_url, LLM_MAX_RETRIES=0, CHAT_BREAKER_COOLDOWN=2.0)
    for _ in range(3):
        await one_turn(user)
    assert fake_openai.request_count == 3
    # Open: fails fast without calling the provider.
    _, frames = await one_turn(user)
    assert frames[-2]["code"] == "provider_unavailable"
    assert fake_openai.request_count == 3
    # After the cool-down one probe goes through; its success closes the circuit.
    fake_openai.default = Reply(tokens=("back",))
    await asyncio.sleep(2.1)
    _, frames = await one_turn(user)
    assert text_of(frames) == "back" and fake_openai.request_count == 4
    _, frames = await one_turn(user)
    assert text_of(frames) == "back" and fake_openai.request_count == 5


async def test_stall_before_the_first_token_times_out_and_closes_upstream(
    user, fake_openai, via
):
    fake_openai.default = Stall(seconds=10)
    via(fake_openai.base_url, LLM_MAX_RETRIES=0, LLM_FIRST_TOKEN_TIMEOUT=0.5)
    _, frames = await one_turn(user)
    assert frames[-2]["code"] == "timeout" and frames[-1]["status"] == "failed"
    assert await fake_openai.async_wait_for_disconnects(1, within=3)


async def test_stall_mid_stream_is_interrupted_not_retried(user, fake_openai, via):
    fake_openai.default = Stall(seconds=10, tokens=("partial ", "text"))
    via(fake_openai.base_url, LLM_MAX_RETRIES=2, LLM_CHUNK_GAP_TIMEOUT=0.5)
    start, frames = await one_turn(user)
    assert frames[-2]["code"] == "timeout"
    assert frames[-1]["status"] == "interrupted"
    assert fake_openai.request_count == 1
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.content == "partial text"


async def test_the_probe_closes_the_circuit_at_its_first_token(
    user, other_user, fake_openai, via
):
    fake_openai.default = Status(500)
    via(
        fake_openai.base_url,
        LLM_MAX_RETRIES=0,
        CHAT_BREAKER_COOLDOWN=1.0,
        LLM_FIRST_TOKEN_TIMEOUT=30,
    )
    for _ in range(3):
        await one_turn(user)
    await asyncio.sleep(1.1)
    # The probe: a healthy provider with a long reply (about 4 s).
    fake_openai.default = Reply(tokens=[f"w{i} " for i in range(40)], delay=0.1)
    probe = await connect(user)
    await probe.send_json_to(send_frame("probe"))
    assert (await probe.receive_json_from(timeout=10))["type"] == "start"
    first = await probe.receive_json_from(timeout=10)
    assert first["type"] == "delta"
    # While the probe still streams, another user's turn goes through.
    fake_openai.default = Reply(tokens=("also ", "fine"))
    _, frames = await one_turn(other_user, "meanwhile")
    assert text_of(frames) == "also fine", frames
    rest = await read_reply(probe, wait=30)
    await probe.disconnect()
    assert rest[-1]["status"] == "complete"
    assert text_of([first, *rest]) == "".join(f"w{i} " for i in range(40))


async def test_a_stalled_provider_says_so_at_least_every_interval(
    user, fake_openai, via
):
    fake_openai.default = Stall(seconds=30)
    via(
        fake_openai.base_url,
        LLM_MAX_RETRIES=1,
        LLM_FIRST_TOKEN_TIMEOUT=1.5,
        LLM_RETRY_BASE_DELAY=0.6,
        LLM_RETRY_MAX_DELAY=0.6,
        CHAT_STATUS_INTERVAL_SECONDS=0.4,
    )
    comm = await connect(user)
    await comm.send_json_to(send_frame("anyone there?"))
    start = await comm.receive_json_from(timeout=10)
    arrivals = [time.monotonic()]
    frames = []
    while not frames or frames[-1]["type"] != "end":
        frames.append(await comm.receive_json_from(timeout=10))
        arrivals.append(time.monotonic())
    await comm.disconnect()
    statuses = [f for f in frames if f["type"] == "status"]
    assert all(f["message"] == start["message"] for f in statuses)
    assert {f["text"] for f in statuses if f["retry"] == 0} == {
        "Waiting for the model to answer…"
    }
    retries = [f for f in statuses if f["retry"] == 1]
    assert retries[0]["text"].startswith("The model did not answer in time; trying")
    assert len(retries) >= 3  # the retry itself, then waiting again
    # Never silent for longer than the interval (plus scheduling slack).
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:-2], strict=False)]
    assert max(gaps) < 0.4 + 0.5, gaps
    assert frames[-2]["code"] == "timeout" and frames[-1]["status"] == "failed"
