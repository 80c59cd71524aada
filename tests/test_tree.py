"""The message tree: edit and resend, versions, switching the branch shown, and the
prompt built from the active path only; with the owner checks and bad input."""

import json
import uuid

import pytest
from django.test import AsyncClient

from chat import tree
from chat.models import Conversation, Message, ModelCall
from tests.servers.fake_openai import Reply
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)


def edit_frame(message, content, id=None, **extra) -> dict:
    return {
        "type": "edit",
        "id": str(id or uuid.uuid4()),
        "message": message,
        "content": content,
        **extra,
    }


async def turn(comm, frame) -> tuple[dict, list[dict]]:
    await comm.send_json_to(frame)
    # A switch made since the last turn tells this socket first.
    while (start := await comm.receive_json_from(timeout=5))["type"] == "branch":
        pass
    assert start["type"] == "start", start
    return start, await read_reply(comm)


async def chat(comm, *contents) -> list[dict]:
    """Send each message in one conversation; the start frames."""
    starts, conversation = [], None
    for content in contents:
        start, frames = await turn(comm, send_frame(content, conversation))
        assert frames[-1]["status"] == "complete"
        conversation = start["conversation"]
        starts.append(start)
    return starts


@pytest.fixture
async def client(user):
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def shown(client, conversation) -> list[dict]:
    response = await client.get(f"/api/conversations/{conversation}/")
    assert response.status_code == 200
    return response.json()["messages"]


async def switch(client, conversation, message):
    return await client.post(
        f"/api/conversations/{conversation}/active/",
        json.dumps({"message": message}),
        content_type="application/json",
    )


def contents(prompt) -> list[str]:
    """A prompt's messages after the system prompt."""
    return [m.content for m in prompt[1:]]


async def test_edit_makes_a_new_version_and_answers_it(user, client, fake_model):
    comm = await connect(user)
    one, two = await chat(comm, "one", "two")
    fake_model.tokens = ["new", " answer"]
    start, frames = await turn(comm, edit_frame(one["user_message"], "uno"))
    await comm.disconnect()

    assert start["edits"] == one["user_message"]
    assert start["conversation"] == one["conversation"]
    assert start["user_message"] != one["user_message"]
    assert text_of(frames) == "new answer" and frames[-1]["status"] == "complete"
    # A first message has nothing before it: the prompt is the edited text alone.
    assert contents(fake_model.calls[-1]) == ["uno"]
    edited = await Message.objects.aget(pk=start["user_message"])
    reply = await Message.objects.aget(pk=start["message"])
    assert edited.parent_id is None and edited.content == "uno"
    assert reply.parent_id == edited.id
    listed = await shown(client, one["conversation"])
    assert [m["id"] for m in listed] == [start["user_message"], start["message"]]
    assert listed[0]["versions"] == [one["user_message"], start["user_message"]]
    assert listed[1]["versions"] == [start["message"]]
    # The old branch is kept whole, and every reply is in the ledger.
    assert (
        await Message.objects.filter(conversation_id=one["conversation"]).acount() == 6
    )
    assert await ModelCall.objects.filter(user=user).acount() == 3


async def test_editing_a_middle_message_keeps_what_came_before(
    user, client, fake_model
):
    comm = await connect(user)
    one, two, three = await chat(comm, "one", "two", "three")
    first_reply = fake_model.tokens  # the fake's default reply text
    start, frames = await turn(
        comm,
        edit_frame(two["user_message"], "deux", conversation=two["conversation"]),
    )
    await comm.disconnect()
    assert frames[-1]["status"] == "complete"
    assert contents(fake_model.calls[-1]) == ["one", "".join(first_reply), "deux"]
    listed = await shown(client, one["conversation"])
    assert [m["id"] for m in listed] == [
        one["user_message"],
        one["message"],
        start["user_message"],
        start["message"],
    ]
    assert listed[2]["versions"] == [two["user_message"], start["user_message"]]
    assert listed[2]["parent"] == one["message"]


async def test_versions_after_regenerate_and_edit(user, client, fake_model):
    comm = await connect(user)
    (one,) = await chat(comm, "one")
    regen, _ = await turn(
        comm, {"type": "regenerate", "id": str(uuid.uuid4()), "message": one["message"]}
    )
    assert regen["replaces"] == one["message"]
    edit, _ = await turn(comm, edit_frame(one["user_message"], "uno"))
    await comm.disconnect()
    conversation = one["conversation"]

    listed = await shown(client, conversation)
    assert [m["id"] for m in listed] == [edit["user_message"], edit["message"]]
    assert listed[0]["versions"] == [one["user_message"], edit["user_message"]]
    # Back to the first version of the question: its newest reply comes with it.
    assert (await switch(client, conversation, one["user_message"])).status_code == 200
    listed = await shown(client, conversation)
    assert [m["id"] for m in listed] == [one["user_message"], regen["message"]]
    assert listed[1]["versions"] == [one["message"], regen["message"]]
    # And to the first reply: version 1 of 2.
    response = await switch(client, conversation, one["message"])
    assert response.json() == {
        "type": "branch",
        "conversation": conversation,
        "message": one["message"],
        "leaf": one["message"],
    }
    listed = await shown(client, conversation)
    assert [m["id"] for m in listed] == [one["user_message"], one["message"]]
    row = await Message.objects.aget(pk=one["message"])
    assert await tree.aversions_of(row) == [row.id, uuid.UUID(regen["message"])]
    conv = await Conversation.objects.aget(pk=conversation)
    assert [m.id for m in await tree.aactive_path(conv)] == [
        uuid.UUID(one["user_message"]),
        row.id,
    ]


async def test_switching_versions_changes_the_next_prompt(
    user, client, fake_openai, via
):
    """The provider sees the branch shown, not the newest one."""
    fake_openai.enqueue(Reply(tokens=("Paris",)), Reply(tokens=("Lyon",)))
    fake_openai.default = Reply(tokens=("ok",))
    via(fake_openai.base_url, LLM_MAX_RETRIES=0)
    comm = await connect(user)
    (first,) = await chat(comm, "Capital of France?")
    regen, _ = await turn(
        comm,
        {"type": "regenerate", "id": str(uuid.uuid4()), "message": first["message"]},
    )
    conversation = first["conversation"]
    assert (await switch(client, conversation, first["message"])).status_code == 200
    start, frames = await turn(comm, send_frame("Are you sure?", conversation))
    assert frames[-1]["status"] == "complete"
    sent = fake_openai.last_request.messages
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris"),
        ("user", "Are you sure?"),
    ]
    asked = await Message.objects.aget(pk=start["user_message"])
    assert asked.parent_id == uuid.UUID(first["message"])
    # Switched to the other version, the next turn follows it instead.
    assert (await switch(client, conversation, regen["message"])).status_code == 200
    await turn(comm, send_frame("Really?", conversation))
    await comm.disconnect()
    sent = fake_openai.last_request.messages
    assert [m["content"] for m in sent[1:]] == ["Capital of France?", "Lyon", "Really?"]


async def test_a_switch_reaches_every_socket_of_the_user_only(
    user, other_user, client, fake_model
):
    mine, other_tab, theirs = (
        await connect(user),
        await connect(user),
        await connect(other_user),
    )
    (one,) = await chat(mine, "one")
    await turn(
        mine, {"type": "regenerate", "id": str(uuid.uuid4()), "message": one["message"]}
    )
    assert (
        await switch(client, one["conversation"], one["message"])
    ).status_code == 200
    expected = {
        "type": "branch",
        "conversation": one["conversation"],
        "message": one["message"],
        "leaf": one["message"],
    }
    assert await mine.receive_json_from(timeout=5) == expected
    assert await other_tab.receive_json_from(timeout=5) == expected
    assert await theirs.receive_nothing(timeout=0.5)
    for comm in (mine, other_tab, theirs):
        await comm.disconnect()


async def test_a_resent_edit_is_one_turn(user, fake_model):
    comm = await connect(user)
    (one,) = await chat(comm, "one")
    calls = len(fake_model.calls)
    frame = edit_frame(one["user_message"], "uno")
    start, frames = await turn(comm, frame)
    # The edited message is off the branch shown now; the resend still finds it.
    again, again_frames = await turn(comm, frame)
    await comm.disconnect()
    assert again["message"] == start["message"]
    assert again["user_message"] == start["user_message"]
    assert again["edits"] == one["user_message"]
    assert text_of(again_frames) == text_of(frames)
    assert len(fake_model.calls) == calls + 1


async def test_continue_follows_the_version_shown(user, client, fake_model):
    """A continuation carries on the reply of the branch shown, and regenerating
    a continued reply keeps the continuation as part of the older version."""
    comm = await connect(user)
    fake_model.fail_after = 2
    (one,) = await chat_interrupted(comm, "story")
    fake_model.fail_after = None
    cont, frames = await turn(
        comm, {"type": "continue", "id": str(uuid.uuid4()), "message": one["message"]}
    )
    assert cont["continues"] == one["message"]
    regen, _ = await turn(
        comm,
        {"type": "regenerate", "id": str(uuid.uuid4()), "message": cont["message"]},
    )
    await comm.disconnect()
    assert (
        await switch(client, one["conversation"], one["message"])
    ).status_code == 200
    listed = await shown(client, one["conversation"])
    assert [(m["id"], m["continues"]) for m in listed] == [
        (one["user_message"], None),
        (one["message"], None),
        (cont["message"], one["message"]),
    ]
    assert listed[1]["versions"] == [one["message"], regen["message"]]


async def chat_interrupted(comm, content) -> list[dict]:
    start, frames = await turn(comm, send_frame(content))
    assert frames[-1]["status"] == "interrupted"
    return [start]


# --- Owner checks and bad input ------------------------------------------------


async def snapshot(user) -> tuple:
    """What an refused call must not change: the messages and the active leaves."""
    messages = await Message.objects.acount()
    leaves = [
        leaf
        async for leaf in Conversation.objects.order_by("pk").values_list(
            "active_leaf_id", flat=True
        )
    ]
    return messages, leaves, await ModelCall.objects.acount()


@pytest.mark.parametrize(
    ("case", "code", "part"),
    [
        ("foreign", "invalid", "does not exist"),
        ("unknown", "invalid", "does not exist"),
        ("reply", "invalid", "does not exist"),
        ("other_conversation", "invalid", "does not exist"),
        ("off_branch", "invalid", "branch shown"),
        ("empty", "invalid", ""),
        ("oversized", "too_long", ""),
    ],
)
async def test_bad_edits_are_typed_and_change_nothing(
    user, other_user, fake_model, settings, case, code, part
):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    theirs = await connect(other_user)
    (foreign,) = await chat(theirs, "theirs")
    await theirs.disconnect()
    comm = await connect(user)
    one, two = await chat(comm, "one", "two")
    (elsewhere,) = await chat(comm, "elsewhere")
    edited, _ = await turn(comm, edit_frame(two["user_message"], "deux"))
    target, content, extra = {
        "foreign": (foreign["user_message"], "x", {}),
        "unknown": (str(uuid.uuid4()), "x", {}),
        "reply": (one["message"], "x", {}),
        "other_conversation": (
            elsewhere["user_message"],
            "x",
            {"conversation": one["conversation"]},
        ),
        "off_branch": (two["user_message"], "x", {}),
        "empty": (one["user_message"], "  \n ", {}),
        "oversized": (one["user_message"], "x" * 51, {}),
    }[case]
    before = await snapshot(user)
    calls = len(fake_model.calls)
    frame = edit_frame(target, content, **extra)
    await comm.send_json_to(frame)
    error = await comm.receive_json_from(timeout=5)
    await comm.disconnect()
    assert error["type"] == "error" and error["code"] == code
    assert error["id"] == frame["id"] and part in error["message"]
    assert await snapshot(user) == before
    assert len(fake_model.calls) == calls
    assert edited["edits"] == two["user_message"]


async def test_another_users_message_is_answered_as_an_unknown_one(
    user, other_user, fake_model
):
    theirs = await connect(other_user)
    (foreign,) = await chat(theirs, "theirs")
    await theirs.disconnect()
    comm = await connect(user)
    errors = []
    for target in (foreign["user_message"], str(uuid.uuid4())):
        await comm.send_json_to(edit_frame(target, "x", id=uuid.UUID(int=1)))
        error = await comm.receive_json_from(timeout=5)
        errors.append({k: v for k, v in error.items() if k != "id"})
    await comm.disconnect()
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    "case",
    ["foreign_conversation", "other_conversation", "unknown", "bad_body", "not_json"],
)
async def test_bad_switches_are_refused_and_change_nothing(
    user, other_user, client, fake_model, case
):
    theirs = await connect(other_user)
    (foreign,) = await chat(theirs, "theirs")
    await theirs.disconnect()
    comm = await connect(user)
    (one,) = await chat(comm, "one")
    (two,) = await chat(comm, "two")
    await comm.disconnect()
    conversation, body, status = {
        "foreign_conversation": (
            foreign["conversation"],
            {"message": foreign["message"]},
            404,
        ),
        "other_conversation": (one["conversation"], {"message": two["message"]}, 404),
        "unknown": (one["conversation"], {"message": str(uuid.uuid4())}, 404),
        "bad_body": (one["conversation"], {"message": 7}, 400),
        "not_json": (one["conversation"], "{nope", 400),
    }[case]
    before = await snapshot(user)
    response = await client.post(
        f"/api/conversations/{conversation}/active/",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == status
    assert set(response.json()) == {"code", "message"}
    assert await snapshot(user) == before


async def test_switching_needs_a_csrf_token_and_a_post(user, client, fake_model):
    comm = await connect(user)
    (one,) = await chat(comm, "one")
    await comm.disconnect()
    strict = AsyncClient(enforce_csrf_checks=True)
    await strict.aforce_login(user)
    url = f"/api/conversations/{one['conversation']}/active/"
    body = json.dumps({"message": one["message"]})
    assert (
        await strict.post(url, body, content_type="application/json")
    ).status_code == 403
    assert (await client.get(url)).status_code == 405
