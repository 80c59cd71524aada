"""A provider's 429 with Retry-After, end to end: the app's real socket path, the
openai SDK over real HTTP, and the scripted OpenAI server. The pause the provider
asks of one turn holds every other turn towards that endpoint, on the in-process
limits and on Redis alike."""

import asyncio
import time

import pytest

from chat.limits.clock import get_clock
from chat.limits.upstream import upstream_state
from tests.servers.fake_openai import Reply, Status
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)

PAUSE = 1.5  # the provider's Retry-After, in seconds
# Clocks: the server stamps requests with time.monotonic(), the limits keep the
# pause in wall-clock seconds; they may disagree by this much over a pause.
SLACK = 0.02


async def paused(endpoint: str, within: float = 5.0) -> float:
    """Wait until the limits hold a pause for `endpoint`; seconds of it left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        left = (await upstream_state(endpoint)).paused_until - get_clock().now()
        if left > 0:
            return left
        if loop.time() > deadline:
            raise AssertionError(f"{endpoint} was never paused")
        await asyncio.sleep(0.005)


def requests_of(server, content: str) -> list:
    """The provider requests that carried the user message `content`."""
    return [r for r in server.requests if r.messages[-1]["content"] == content]


async def test_provider_429_pauses_the_endpoint_for_other_turns(
    limits, user, other_user, fake_openai, via
):
    """Alice's request gets 429 with Retry-After; Bob, sending during the pause, is
    told he is queued and reaches the provider only when it ends; Alice's retry
    honours it too, and both replies complete."""
    fake_openai.enqueue(Status(429, retry_after=PAUSE))
    fake_openai.default = Reply(tokens=("fine",), usage=(5, 1))
    via(fake_openai.base_url, LLM_MAX_RETRIES=1)
    alice, bob = await connect(user), await connect(other_user)
    try:
        await alice.send_json_to(send_frame("From Alice"))
        assert await fake_openai.async_wait_for_requests(1)
        refused = fake_openai.requests[0]
        assert refused.behaviour == Status(429, retry_after=PAUSE)
        assert await paused(fake_openai.base_url) > 0

        bob_sent = time.monotonic()
        await bob.send_json_to(send_frame("From Bob"))
        bob_start = await bob.receive_json_from()
        bob_frames = await read_reply(bob, wait=10)
        alice_start = await alice.receive_json_from()
        alice_frames = await read_reply(alice, wait=10)
    finally:
        await alice.disconnect()
        await bob.disconnect()

    pause_end = refused.at + PAUSE
    # Bob really asked during the pause, or this test proves nothing.
    assert bob_sent < pause_end - 0.5
    assert bob_start["type"] == alice_start["type"] == "start"

    # Bob waited, told so, and completed once the pause was over.
    kinds = [frame["type"] for frame in bob_frames]
    queued = [frame for frame in bob_frames if frame["type"] == "queued"]
    assert [frame["position"] for frame in queued] == [1, 0], bob_frames
    assert kinds.index("queued") < kinds.index("delta")
    assert bob_frames[-1]["status"] == "complete" and text_of(bob_frames) == "fine"
    assert not [frame for frame in bob_frames if frame["type"] == "error"]

    # Alice's turn retried after the Retry-After, once, and completed.
    assert alice_frames[-1]["status"] == "complete"
    assert text_of(alice_frames) == "fine"
    assert not [frame for frame in alice_frames if frame["type"] == "error"]

    # The provider's log: nothing reached it during the pause.
    assert fake_openai.request_count == 3
    first, retry = requests_of(fake_openai, "From Alice")
    (from_bob,) = requests_of(fake_openai, "From Bob")
    assert first == refused
    assert retry.at >= pause_end - SLACK
    assert from_bob.at >= pause_end - SLACK
