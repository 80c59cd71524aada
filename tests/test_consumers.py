"""The WebSocket consumer driven through the real ASGI app (auth, origin, routing)."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.models import Message, ModelCall
from chatproject.asgi import application
from tests import factories
from tests.ws import ORIGIN, connect, read_reply, send_frame, session_cookie, text_of

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_socket_is_closed_with_4401():
    comm = WebsocketCommunicator(
        application, "/ws/chat/", headers=[ORIGIN, (b"host", b"testserver")]
    )
    connected, _ = await comm.connect()
    assert connected
    closed = await comm.receive_output()
    assert closed == {"type": "websocket.close", "code": 4401}
    await comm.disconnect()


async def test_foreign_origin_is_refused_at_handshake(user):
    comm = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"testserver")],
    )
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


async def test_full_turn_streams_and_stores_provider_usage(user, fake_model):
    fake_model.tokens = ["Hel", "lo", " there", "!"]
    fake_model.usage = (21, 4)
    comm = await connect(user)
    frame = send_frame("Say hello")
    await comm.send_json_to(frame)
    start = await comm.receive_json_from()
    assert start["type"] == "start" and start["id"] == frame["id"]
    frames = await read_reply(comm)
    await comm.disconnect()

    deltas = [f for f in frames if f["type"] == "delta"]
    assert text_of(frames) == "Hello there!"
    seqs = [d["seq"] for d in deltas]
    # One seq per piece the output filter released (it scans pieces that
    # arrive within CHAT_COALESCE_MS together).
    assert seqs == sorted(seqs) and 1 <= seqs[-1] <= 4
    end = frames[-1]
    assert end["status"] == "complete" and end["seq"] == seqs[-1]
    assert end["usage"] == {
        "input_tokens": 21,
        "output_tokens": 4,
        "cached_input_tokens": 0,
        "estimated": False,
    }
    assert "<p>Hello there!</p>" in end["html"]

    reply = await Message.objects.aget(pk=start["message"])
    assert reply.status == "complete" and reply.content == "Hello there!"
    assert (reply.input_tokens, reply.output_tokens) == (21, 4)
    assert reply.ttft_ms is not None and reply.duration_ms is not None
    question = await Message.objects.aget(pk=start["user_message"])
    assert question.content == "Say hello" and question.role == "user"
    assert await ModelCall.objects.filter(message=reply).acount() == 1
    # The model saw the system prompt, then the user's message as its own message.
    sent = fake_model.calls[0]
    assert sent[0].type == "system" and sent[-1].type == "human"
    assert sent[-1].content == "Say hello"


async def test_reply_without_provider_usage_is_estimated(user, fake_model):
    fake_model.usage = None
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    await comm.receive_json_from()
    end = (await read_reply(comm))[-1]
    await comm.disconnect()
    assert end["usage"]["estimated"] is True
    assert end["usage"]["input_tokens"] > 0 and end["usage"]["output_tokens"] > 0


async def test_history_is_sent_on_the_next_turn(user, fake_model):
    comm = await connect(user)
    await comm.send_json_to(send_frame("first question"))
    start = await comm.receive_json_from()
    await read_reply(comm)
    await comm.send_json_to(send_frame("second", conversation=start["conversation"]))
    second = await comm.receive_json_from()
    await read_reply(comm)
    await comm.disconnect()
    assert second["conversation"] == start["conversation"]
    contents = [m.content for m in fake_model.calls[1]]
    assert contents[1:] == ["first question", "Hello, world!", "second"]


async def test_stop_cancels_the_reply_and_keeps_the_partial_text(user, fake_model):
    fake_model.tokens = [f"t{i} " for i in range(200)]
    fake_model.delay = 0.01
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    first = await comm.receive_json_from()
    assert first["type"] == "delta"
    await comm.send_json_to({"type": "stop", "message": start["message"]})
    frames = [first, *await read_reply(comm)]
    await comm.disconnect()
    end = frames[-1]
    assert end["status"] == "cancelled"
    shown = text_of(frames)
    assert 0 < len(shown) < len("".join(fake_model.tokens))
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.status == "cancelled" and reply.content == shown
    # The stopped reply is still counted: what was generated is billed.
    assert reply.output_tokens > 0 and reply.usage_estimated


async def test_resend_with_same_id_is_one_turn(user, fake_model):
    comm = await connect(user)
    frame = send_frame()
    await comm.send_json_to(frame)
    first = await comm.receive_json_from()
    first_frames = await read_reply(comm)
    await comm.send_json_to(frame)
    again = await comm.receive_json_from()
    again_frames = await read_reply(comm)
    await comm.disconnect()
    assert again["message"] == first["message"]
    assert len(fake_model.calls) == 1
    assert text_of(again_frames) == text_of(first_frames) == "Hello, world!"
    assert await Message.objects.acount() == 2


async def test_second_socket_joins_a_reply_in_flight(user, fake_model):
    fake_model.tokens = [f"w{i} " for i in range(40)]
    fake_model.delay = 0.01
    first = await connect(user)
    await first.send_json_to(send_frame())
    start = await first.receive_json_from()
    await first.receive_json_from()  # a delta: the reply is under way
    second = await connect(user)
    await second.send_json_to({"type": "join", "message": start["message"]})
    joined = await read_reply(second)
    await first.disconnect()
    await second.disconnect()
    assert text_of(joined) == "".join(fake_model.tokens)


async def test_reply_completes_after_the_socket_closes(user, fake_model):
    fake_model.tokens = [f"x{i} " for i in range(20)]
    fake_model.delay = 0.01
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    await comm.disconnect()
    for _ in range(100):
        reply = await Message.objects.aget(pk=start["message"])
        if reply.status != "streaming":
            break
        await asyncio.sleep(0.05)
    assert reply.status == "complete"
    assert reply.content == "".join(fake_model.tokens)


async def test_provider_failure_before_tokens_fails_the_reply(user, fake_model):
    fake_model.fail_after = 0
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    frames = await read_reply(comm)
    await comm.disconnect()
    error = frames[-2]
    assert error["type"] == "error" and error["code"] == "provider_unavailable"
    assert error["message_id"] == start["message"]
    assert "fake failure" not in json.dumps(frames)
    assert frames[-1]["status"] == "failed"
    question = await Message.objects.aget(pk=start["user_message"])
    assert question.content == "Hi there"


async def test_provider_failure_after_tokens_is_interrupted(user, fake_model):
    fake_model.fail_after = 2
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    frames = await read_reply(comm)
    await comm.disconnect()
    assert frames[-1]["status"] == "interrupted"
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.content == "Hello," and reply.status == "interrupted"


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"content": "x"}', "needs a 'type'"),
        ('{"type": "dance"}', "Unknown frame type"),
        ('{"type": "send", "content": "hi"}', "Field 'send.id'"),
        ('{"type": "send", "id": "nope", "content": "hi"}', "Field 'send.id'"),
        (
            json.dumps({"type": "send", "id": str(uuid.uuid4()), "content": 5}),
            "content",
        ),
        ('{"type": "stop"}', "message"),
        (
            json.dumps({"type": "join", "message": str(uuid.uuid4()), "after": -1}),
            "after",
        ),
    ],
)
async def test_malformed_frames_get_invalid_and_the_socket_stays_usable(
    user, fake_model, raw, message_part
):
    comm = await connect(user)
    await comm.send_to(text_data=raw)
    error = await comm.receive_json_from()
    assert error["type"] == "error" and error["code"] == "invalid"
    assert message_part in error["message"]
    await comm.send_json_to(send_frame())
    assert (await comm.receive_json_from())["type"] == "start"
    await read_reply(comm)
    await comm.disconnect()
    assert len(fake_model.calls) == 1


async def test_empty_and_oversized_content_are_refused_without_a_model_call(
    user, fake_model, settings
):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    comm = await connect(user)
    await comm.send_json_to(send_frame("   \u200b  "))
    assert (await comm.receive_json_from())["code"] == "invalid"
    await comm.send_json_to(send_frame("x" * 101))
    error = await comm.receive_json_from()
    assert error["code"] == "too_long" and "100" in error["message"]
    await comm.disconnect()
    assert fake_model.calls == []
    assert await Message.objects.acount() == 0


async def test_oversized_frame_closes_with_1009(user, fake_model, settings):
    settings.CHAT_MAX_FRAME_BYTES = 1000
    comm = await connect(user)
    await comm.send_json_to(send_frame("y" * 2000))
    assert await comm.receive_output() == {"type": "websocket.close", "code": 1009}
    assert fake_model.calls == []


async def test_binary_frame_is_invalid(user):
    comm = await connect(user)
    await comm.send_to(bytes_data=b"\x00\x01")
    assert (await comm.receive_json_from())["code"] == "invalid"
    await comm.disconnect()


async def test_someone_elses_conversation_looks_like_a_missing_one(
    user, other_user, fake_model
):
    theirs = await factories.aconversation(other_user, title="private")
    comm = await connect(user)
    await comm.send_json_to(send_frame(conversation=str(theirs.id)))
    foreign = await comm.receive_json_from()
    await comm.send_json_to(send_frame(conversation=str(uuid.uuid4())))
    missing = await comm.receive_json_from()
    await comm.disconnect()
    assert foreign["code"] == missing["code"] == "invalid"
    assert foreign["message"] == missing["message"]
    assert fake_model.calls == []


async def test_cannot_stop_or_join_someone_elses_reply(user, other_user, fake_model):
    fake_model.tokens = [f"z{i} " for i in range(30)]
    fake_model.delay = 0.01
    owner = await connect(other_user)
    await owner.send_json_to(send_frame())
    start = await owner.receive_json_from()
    intruder = await connect(user)
    await intruder.send_json_to({"type": "stop", "message": start["message"]})
    assert (await intruder.receive_json_from())["code"] == "invalid"
    await intruder.send_json_to({"type": "join", "message": start["message"]})
    assert (await intruder.receive_json_from())["code"] == "invalid"
    frames = await read_reply(owner)
    await owner.disconnect()
    await intruder.disconnect()
    assert frames[-1]["status"] == "complete"


async def test_sockets_per_user_are_capped(user, settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    first, second = await connect(user), await connect(user)
    comm = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[
            ORIGIN,
            (b"host", b"testserver"),
            (b"cookie", await session_cookie(user)),
        ],
    )
    assert (await comm.connect())[0]
    error = await comm.receive_json_from()
    assert error["type"] == "error" and error["code"] == "busy"
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4429}
    await first.disconnect()
    third = await connect(user)  # a closed socket frees its place
    await second.disconnect()
    await third.disconnect()


async def test_logging_out_closes_the_users_sockets(user, other_user):
    mine, theirs = await connect(user), await connect(other_user)
    client = Client()
    await sync_to_async(client.force_login)(user)
    await sync_to_async(client.post)("/accounts/logout/")
    assert await mine.receive_output() == {"type": "websocket.close", "code": 4401}
    assert await theirs.receive_nothing()
    await theirs.disconnect()


async def test_joining_a_reply_whose_process_died_interrupts_it(user):
    conversation = await factories.aconversation(user)
    question = await factories.amessage(conversation, content="Tell me a story")
    orphan = await factories.amessage(
        conversation,
        role="assistant",
        status="streaming",
        content="Once upon",
        parent=question,
        model="demo",
    )
    comm = await connect(user)
    await comm.send_json_to({"type": "join", "message": str(orphan.id), "after": 0})
    frames = await read_reply(comm)
    await comm.disconnect()
    assert text_of(frames) == "Once upon"
    assert frames[-1]["status"] == "interrupted"
    assert frames[-1]["usage"]["output_tokens"] > 0
    assert await ModelCall.objects.filter(message=orphan).acount() == 1


async def test_sweeper_interrupts_stale_replies_only(user):
    from datetime import timedelta

    from django.utils import timezone

    from chat.delivery.sweeper import stale_replies_sweep

    conversation = await factories.aconversation(user)
    streaming = {"role": "assistant", "status": "streaming", "model": "demo"}
    stale = await factories.amessage(conversation, **streaming)
    live = await factories.amessage(conversation, **streaming)
    await Message.objects.filter(pk=stale.pk).aupdate(
        updated=timezone.now() - timedelta(minutes=10)
    )
    assert await stale_replies_sweep(older_than=timedelta(minutes=2)) == 1
    await stale.arefresh_from_db()
    await live.arefresh_from_db()
    assert (stale.status, live.status) == ("interrupted", "streaming")
