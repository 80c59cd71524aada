"""CHAT_UNWATCHED_REPLY_GRACE_SECONDS: a reply nobody follows stops after the grace
period; one that any socket still follows finishes. In-process and on real Redis."""

import asyncio
import os

import pytest
import redis

from chat.delivery import watchers
from chat.models import Message
from tests.conftest import need_service
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def backend(request, settings):
    settings.CHAT_UNWATCHED_REPLY_GRACE_SECONDS = 0.4
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            need_service(f"Redis is not reachable at {REDIS_URL}")
        settings.REDIS_URL = REDIS_URL
    else:
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def slow_model(fake_model):
    fake_model.tokens = [f"t{i} " for i in range(150)]
    fake_model.delay = 0.02  # three seconds in all
    return fake_model


async def ended(message_id: str, within: float = 5.0) -> Message:
    """The reply once it has a final status (polling the database)."""
    async with asyncio.timeout(within):
        while True:
            reply = await Message.objects.aget(pk=message_id)
            if reply.status != Message.Status.STREAMING:
                return reply
            await asyncio.sleep(0.05)


async def test_a_reply_nobody_follows_stops_after_the_grace(user, slow_model, backend):
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    assert (await comm.receive_json_from())["type"] == "delta"
    await comm.disconnect()
    reply = await ended(start["message"], within=2.5)
    assert reply.status == "cancelled"
    assert 0 < len(reply.content) < len("".join(slow_model.tokens))
    # Stopped, not just abandoned: the model stopped streaming.
    assert reply.output_tokens < len(slow_model.tokens)
    assert not await watchers.watched(start["message"])


async def test_a_reply_another_socket_follows_finishes(user, slow_model, backend):
    first = await connect(user)
    await first.send_json_to(send_frame())
    start = await first.receive_json_from()
    second = await connect(user)
    await second.send_json_to({"type": "join", "message": start["message"]})
    assert (await second.receive_json_from())["type"] == "delta"
    await first.disconnect()
    frames = await read_reply(second, wait=10)
    await second.disconnect()
    assert frames[-1]["status"] == "complete"
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.content == "".join(slow_model.tokens)
    assert text_of(frames)


async def test_without_a_grace_every_reply_finishes(user, slow_model, settings):
    settings.CHAT_UNWATCHED_REPLY_GRACE_SECONDS = 0
    slow_model.tokens = slow_model.tokens[:40]
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    await comm.disconnect()
    reply = await ended(start["message"])
    assert reply.status == "complete"
    assert reply.content == "".join(slow_model.tokens)
