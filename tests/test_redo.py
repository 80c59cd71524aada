"""Regenerate and Continue: a new turn from the conversation's last reply, through
the same limits, prompt and records as a send; the real HTTP path for Continue."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat.llm.prompts import CONTINUE_INSTRUCTION
from chat.models import Message, ModelCall
from tests.servers.fake_openai import Cut, Reply
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


def redo_frame(mode: str, message: str, id=None) -> dict:
    return {"type": mode, "id": str(id or uuid.uuid4()), "message": message}


async def interrupted_turn(comm, fake_model, content="Tell me a story"):
    """A reply that fails after two tokens: stored as `interrupted` with them."""
    fake_model.fail_after = 2
    await comm.send_json_to(send_frame(content))
    start = await comm.receive_json_from(timeout=5)
    frames = await read_reply(comm)
    assert frames[-1]["status"] == "interrupted"
    fake_model.fail_after = None
    return start


async def redo(comm, mode, message, id=None):
    await comm.send_json_to(redo_frame(mode, message, id))
    start = await comm.receive_json_from(timeout=5)
    return start, await read_reply(comm)


def shown(user, conversation) -> list[dict]:
    client = Client()
    client.force_login(user)
    return client.get(f"/api/conversations/{conversation}/").json()["messages"]


async def test_continue_carries_on_an_interrupted_reply(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    fake_model.tokens = [" and", " then", " more."]
    start, frames = await redo(comm, "continue", first["message"])
    await comm.disconnect()

    assert start["continues"] == first["message"]
    assert start["user_message"] == first["user_message"]
    assert start["conversation"] == first["conversation"]
    assert start["message"] != first["message"]
    assert frames[-1]["status"] == "complete"
    assert text_of(frames) == " and then more."
    # The model saw the question, its own partial reply, then the instruction.
    prompt = fake_model.calls[-1]
    assert [m.type for m in prompt[1:]] == ["human", "ai", "human"]
    assert [m.content for m in prompt[1:]] == [
        "Tell me a story",
        "Hello,",
        CONTINUE_INSTRUCTION,
    ]
    new = await Message.objects.aget(pk=start["message"])
    # A continuation is a child of the reply it carries on.
    assert new.parent_id == uuid.UUID(first["message"])
    # The partial reply is kept as it was, and each part is billed by its own row.
    old = await Message.objects.aget(pk=first["message"])
    assert old.status == "interrupted" and old.content == "Hello,"
    assert await ModelCall.objects.filter(message=new).aexists()


async def test_a_continued_reply_reads_as_one_in_later_prompts(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    fake_model.tokens = [" again"]
    await redo(comm, "continue", first["message"])
    fake_model.tokens = ["ok"]
    await comm.send_json_to(send_frame("next", conversation=first["conversation"]))
    await comm.receive_json_from()
    await read_reply(comm)
    await comm.disconnect()
    prompt = fake_model.calls[-1]
    assert [m.content for m in prompt[1:]] == [
        "Tell me a story",
        "Hello, again",
        "next",
    ]


async def test_regenerate_makes_a_new_version_of_the_reply(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    fake_model.tokens = ["A", " fresh", " answer"]
    start, frames = await redo(comm, "regenerate", first["message"])
    await comm.disconnect()

    assert start["replaces"] == first["message"]
    assert start["user_message"] == first["user_message"]
    assert text_of(frames) == "A fresh answer" and frames[-1]["status"] == "complete"
    # Asked the same question again, without the replaced reply in the history.
    assert [m.content for m in fake_model.calls[-1][1:]] == ["Tell me a story"]
    old = await Message.objects.aget(pk=first["message"])
    new = await Message.objects.aget(pk=start["message"])
    assert old.content == "Hello,"
    # Both replies answer the same user message: versions 1 and 2 of one reply.
    assert old.parent_id == new.parent_id == uuid.UUID(first["user_message"])
    # The page shows the new one, and that the old one is version 1 of 2; the
    # ledger keeps both calls.
    listed = await sync_to_async(shown)(user, first["conversation"])
    assert [m["id"] for m in listed] == [first["user_message"], start["message"]]
    assert listed[1]["versions"] == [first["message"], start["message"]]
    assert await ModelCall.objects.filter(message=old).aexists()


async def test_regenerate_sets_a_reply_and_its_continuations_aside(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    fake_model.fail_after = 1
    cont, _ = await redo(comm, "continue", first["message"])
    fake_model.fail_after = None
    fake_model.tokens = ["whole"]
    start, frames = await redo(comm, "regenerate", cont["message"])
    await comm.disconnect()
    assert text_of(frames) == "whole"
    listed = await sync_to_async(shown)(user, first["conversation"])
    assert [m["id"] for m in listed] == [first["user_message"], start["message"]]
    assert listed[1]["versions"] == [first["message"], start["message"]]
    # The old reply keeps its continuation, out of sight on its own branch.
    cont_row = await Message.objects.aget(pk=cont["message"])
    assert cont_row.parent_id == uuid.UUID(first["message"])


async def test_continuation_is_listed_with_what_it_continues(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    start, _ = await redo(comm, "continue", first["message"])
    await comm.disconnect()
    listed = await sync_to_async(shown)(user, first["conversation"])
    assert [(m["id"], m["continues"]) for m in listed] == [
        (first["user_message"], None),
        (first["message"], None),
        (start["message"], first["message"]),
    ]


async def test_resent_redo_is_one_turn(user, fake_model):
    comm = await connect(user)
    first = await interrupted_turn(comm, fake_model)
    calls = len(fake_model.calls)
    frame_id = uuid.uuid4()
    start, frames = await redo(comm, "regenerate", first["message"], id=frame_id)
    again, again_frames = await redo(comm, "regenerate", first["message"], id=frame_id)
    await comm.disconnect()
    assert again["message"] == start["message"]
    assert again["replaces"] == first["message"]
    assert text_of(again_frames) == text_of(frames)
    assert len(fake_model.calls) == calls + 1


@pytest.mark.parametrize(
    ("mode", "setup", "message_part"),
    [
        ("continue", "complete", "cut short"),
        ("regenerate", "older", "last reply"),
        ("continue", "older", "last reply"),
        ("regenerate", "foreign", "does not exist"),
        ("continue", "user_message", "does not exist"),
    ],
)
async def test_redo_refusals_are_typed_and_call_no_model(
    user, other_user, fake_model, mode, setup, message_part
):
    comm = await connect(user)
    await comm.send_json_to(send_frame("one"))
    first = await comm.receive_json_from()
    await read_reply(comm)
    await comm.send_json_to(send_frame("two", conversation=first["conversation"]))
    await comm.receive_json_from()
    second = await read_reply(comm)
    target = {
        "complete": second[-1]["message"],
        "older": first["message"],
        "user_message": first["user_message"],
    }.get(setup)
    if setup == "foreign":
        other = await connect(other_user)
        await other.send_json_to(send_frame("theirs"))
        target = (await other.receive_json_from())["message"]
        await read_reply(other)
        await other.disconnect()
    calls = len(fake_model.calls)
    frame = redo_frame(mode, target)
    await comm.send_json_to(frame)
    error = await comm.receive_json_from()
    await comm.disconnect()
    assert error["type"] == "error" and error["code"] == "invalid"
    assert error["id"] == frame["id"]
    assert message_part in error["message"]
    assert len(fake_model.calls) == calls


async def test_a_streaming_reply_cannot_be_redone(user, fake_model):
    fake_model.tokens = [f"t{i} " for i in range(100)]
    fake_model.delay = 0.02
    comm = await connect(user)
    await comm.send_json_to(send_frame())
    start = await comm.receive_json_from()
    await comm.send_json_to(redo_frame("regenerate", start["message"]))
    while (frame := await comm.receive_json_from())["type"] != "error":
        pass
    assert frame["code"] == "invalid" and "still being written" in frame["message"]
    await comm.send_json_to({"type": "stop", "message": start["message"]})
    await read_reply(comm)
    await comm.disconnect()


async def test_continue_over_real_http_sends_the_partial_reply(user, fake_openai, via):
    """The provider receives the question, the partial reply as the assistant's
    turn and the instruction; the continuation is stored and billed."""
    fake_openai.enqueue(Cut(tokens=("Once ", "upon ", "a ", "time"), after=2))
    fake_openai.default = Reply(tokens=("a ", "time."), usage=(30, 2))
    via(fake_openai.base_url, LLM_MAX_RETRIES=0)
    comm = await connect(user)
    await comm.send_json_to(send_frame("A story?"))
    first = await comm.receive_json_from(timeout=5)
    assert (await read_reply(comm))[-1]["status"] == "interrupted"
    start, frames = await redo(comm, "continue", first["message"])
    await comm.disconnect()
    assert text_of(frames) == "a time." and frames[-1]["status"] == "complete"
    sent = fake_openai.last_request.messages
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "A story?"),
        ("assistant", "Once upon "),
        ("user", CONTINUE_INSTRUCTION),
    ]
    new = await Message.objects.aget(pk=start["message"])
    assert (new.input_tokens, new.output_tokens) == (30, 2)
