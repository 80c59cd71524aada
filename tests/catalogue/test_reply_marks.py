"""End frames say when a reply was cut by the token limit or served from the cache."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from chat.cache.backends import reset_backends
from chat.models import Message, ModelCall, Preset
from tests.servers.fake_openai import Reply
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def entry_on_server(fake_openai, aentry):
    return await aentry("house", base_url=fake_openai.base_url, is_default=True)


async def test_a_reply_cut_by_the_token_limit_is_truncated_and_continues(
    user, fake_openai, entry_on_server
):
    fake_openai.enqueue(
        Reply(tokens=("Once ", "upon ", "a"), usage=(20, 3), finish_reason="length"),
        Reply(tokens=(" time.",), usage=(30, 2)),
    )
    comm = await connect(user)
    await comm.send_json_to(send_frame("Tell me a story"))
    start = await comm.receive_json_from(timeout=30)
    frames = await read_reply(comm, wait=30)
    end = frames[-1]
    assert end["status"] == "complete" and end["truncated"] is True
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.truncated and reply.content == "Once upon a"
    await comm.send_json_to(
        {"type": "continue", "id": str(uuid.uuid4()), "message": start["message"]}
    )
    more = await comm.receive_json_from(timeout=30)
    rest = await read_reply(comm, wait=30)
    await comm.disconnect()
    assert more["type"] == "start" and more["continues"] == start["message"]
    assert text_of(rest) == " time." and rest[-1]["truncated"] is False
    sent = fake_openai.last_request.messages
    assert sent[-2] == {"role": "assistant", "content": "Once upon a"}


async def test_a_complete_reply_that_was_not_cut_cannot_be_continued(
    user, fake_openai, entry_on_server
):
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from(timeout=30)
    frames = await read_reply(comm, wait=30)
    assert frames[-1]["truncated"] is False
    await comm.send_json_to(
        {"type": "continue", "id": str(uuid.uuid4()), "message": start["message"]}
    )
    error = await comm.receive_json_from(timeout=30)
    await comm.disconnect()
    assert error["code"] == "invalid" and "cut short" in error["message"]


async def test_a_cache_hit_says_cached_and_what_it_saved(
    user, fake_openai, entry_on_server, settings
):
    settings.CHAT_CACHE_BACKEND = "memory"
    settings.CHAT_CACHE_MAX_TEMPERATURE = 1.0
    reset_backends()
    fake_openai.default = Reply(tokens=("Paris",), usage=(1000, 1000))
    comm = await connect(user)
    ends = []
    for _ in range(2):
        await comm.send_json_to(send_frame("Capital of France?"))
        await comm.receive_json_from(timeout=30)
        ends.append((await read_reply(comm, wait=30))[-1])
    await comm.disconnect()
    reset_backends()
    assert fake_openai.request_count == 1
    assert "cached" not in ends[0]
    assert ends[1]["cached"] is True and ends[1]["content"] == "Paris"
    # 1000 input at 1.00 and 1000 output at 2.00 per million tokens.
    assert ends[1]["saved"] == {
        "input_tokens": 1000,
        "output_tokens": 1000,
        "cost": "0.00300000",
    }
    hit = await ModelCall.objects.aget(cache_hit=True)
    assert hit.cost == Decimal(0) and hit.catalogue_key == "house"


async def test_a_truncated_reply_is_not_cached(
    user, fake_openai, entry_on_server, settings
):
    settings.CHAT_CACHE_BACKEND = "memory"
    settings.CHAT_CACHE_MAX_TEMPERATURE = 1.0
    reset_backends()
    fake_openai.default = Reply(tokens=("Par",), finish_reason="length")
    comm = await connect(user)
    for _ in range(2):
        await comm.send_json_to(send_frame("Capital of France?"))
        await comm.receive_json_from(timeout=30)
        end = (await read_reply(comm, wait=30))[-1]
    await comm.disconnect()
    reset_backends()
    assert fake_openai.request_count == 2 and end["truncated"] and "cached" not in end


async def test_a_conversations_temperature_is_part_of_the_cache_key(
    user, fake_openai, entry_on_server, settings
):
    """The same question at another temperature is asked anew, not served from
    the reply to the first."""
    settings.CHAT_CACHE_BACKEND = "memory"
    settings.CHAT_CACHE_MAX_TEMPERATURE = 1.0
    reset_backends()
    cool = await Preset.objects.acreate(name="Cool", temperature=0.1)
    fake_openai.default = Reply(tokens=("Paris",), usage=(10, 1))
    comm = await connect(user)
    ends = []
    for preset in (None, cool.pk, cool.pk):
        frame = send_frame("Capital of France?")
        if preset:
            frame["preset"] = preset
        await comm.send_json_to(frame)
        await comm.receive_json_from(timeout=30)
        ends.append((await read_reply(comm, wait=30))[-1])
    await comm.disconnect()
    reset_backends()
    assert [end.get("cached", False) for end in ends] == [False, False, True]
    assert fake_openai.request_count == 2
    assert fake_openai.last_request.body["temperature"] == 0.1
