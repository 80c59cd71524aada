"""The picker over the socket, on two real OpenAI-compatible endpoints at once."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import AsyncClient

from chat.llm.registry import cost
from chat.models import CatalogueEntry, Conversation, Message, ModelCall
from chatproject.asgi import application
from tests.servers.fake_openai import Reply
from tests.ws import ORIGIN, connect, read_reply, send_frame, session_cookie, text_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def two_models(fake_openai, second_openai, aentry):
    """Entry "left" on one server and "right" on the other, priced apart."""
    fake_openai.default = Reply(tokens=("left ", "says ", "hi"), usage=(100, 3))
    second_openai.default = Reply(tokens=("right ", "says ", "yo"), usage=(200, 3))
    left = await aentry("left", base_url=fake_openai.base_url, is_default=True)
    right = await aentry(
        "right",
        base_url=second_openai.base_url,
        input_per_mtok=Decimal("5.00"),
        output_per_mtok=Decimal("7.00"),
    )
    return left, right


async def hello_of(user) -> dict:
    comm = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[
            ORIGIN,
            (b"host", b"testserver"),
            (b"cookie", await session_cookie(user)),
        ],
    )
    await comm.connect()
    hello = await comm.receive_json_from(timeout=30)
    await comm.disconnect()
    return hello


async def turn(comm, content="Hi", *, conversation=None, model=None):
    frame = send_frame(content, conversation=conversation)
    if model:
        frame["model"] = model
    await comm.send_json_to(frame)
    start = await comm.receive_json_from(timeout=30)
    if start["type"] == "error":
        return start, []
    return start, await read_reply(comm, wait=30)


async def test_hello_lists_the_models_the_user_may_use(user, two_models):
    left, right = two_models
    staff = await Group.objects.acreate(name="staff")
    await sync_to_async(right.groups.set)([staff])
    hello = await hello_of(user)
    keys = [m["key"] for m in hello["models"]]
    assert "left" in keys and "right" not in keys
    info = next(m for m in hello["models"] if m["key"] == "left")
    assert info["default"] is True and hello["model"] == "left-model"
    assert info["prices"] == {"input": "1", "cached_input": "0.5", "output": "2"}
    assert info["context_window"] == 8192
    assert set(info["capabilities"]) == {
        "streaming_usage",
        "vision",
        "tools",
        "json_mode",
    }
    # Endpoints and key variables never reach the page.
    assert "base_url" not in str(hello) and "127.0.0.1" not in str(hello)


async def test_the_page_can_ask_for_the_models_again(user, two_models):
    """GET /api/models/ lists what hello lists, as the catalogue is now."""
    client = AsyncClient()
    assert (await client.get("/api/models/")).status_code == 401
    await client.aforce_login(user)
    listed = (await client.get("/api/models/")).json()["models"]
    assert listed == (await hello_of(user))["models"]
    left, _ = two_models
    left.enabled = False
    await left.asave()
    listed = (await client.get("/api/models/")).json()["models"]
    keys = [m["key"] for m in listed]
    assert "left" not in keys and "right" in keys
    assert len([m for m in listed if m["default"]]) == 1


async def test_two_conversations_on_two_endpoints_stream_concurrently(
    user, other_user, two_models, fake_openai, second_openai
):
    # Each stream lasts 20 x 0.05 s = 1 s.
    fake_openai.default = Reply(
        tokens=[f"l{i} " for i in range(20)], delay=0.05, usage=(100, 20)
    )
    second_openai.default = Reply(
        tokens=[f"r{i} " for i in range(20)], delay=0.05, usage=(200, 20)
    )
    alice, bob = await connect(user), await connect(other_user)
    (a_start, a_frames), (b_start, b_frames) = await asyncio.gather(
        turn(alice, model="left"), turn(bob, model="right")
    )
    await alice.disconnect()
    await bob.disconnect()
    assert text_of(a_frames).startswith("l0 l1") and text_of(b_frames).startswith(
        "r0 r1"
    )
    # Both streams were open at once: each request came before the other ended.
    assert fake_openai.request_count == 1 and second_openai.request_count == 1
    assert abs(fake_openai.last_request.at - second_openai.last_request.at) < 1.0
    assert fake_openai.last_request.body["model"] == "left-model"
    assert second_openai.last_request.body["model"] == "right-model"
    left_call = await ModelCall.objects.aget(message_id=a_start["message"])
    right_call = await ModelCall.objects.aget(message_id=b_start["message"])
    assert (left_call.catalogue_key, left_call.model, left_call.endpoint) == (
        "left",
        "left-model",
        fake_openai.base_url,
    )
    assert (right_call.catalogue_key, right_call.model, right_call.endpoint) == (
        "right",
        "right-model",
        second_openai.base_url,
    )
    # Each priced at its own entry's prices.
    assert left_call.cost == Decimal("0.00014")  # 100 * 1.00 + 20 * 2.00 per million
    assert right_call.cost == Decimal("0.00114")  # 200 * 5.00 + 20 * 7.00 per million
    assert a_start["model_key"] == "left" and b_start["model_key"] == "right"


async def test_switching_model_mid_conversation_moves_the_history(
    user, two_models, fake_openai, second_openai
):
    comm = await connect(user)
    start, _ = await turn(comm, "First question", model="left")
    conversation = start["conversation"]
    start2, frames2 = await turn(
        comm, "Second question", conversation=conversation, model="right"
    )
    # The next turn, with no model named, stays on the conversation's new model.
    start3, _ = await turn(comm, "Third question", conversation=conversation)
    await comm.disconnect()
    assert fake_openai.request_count == 1 and second_openai.request_count == 2
    sent = [m["content"] for m in second_openai.requests[0].messages]
    assert sent[-3:] == ["First question", "left says hi", "Second question"]
    assert text_of(frames2) == "right says yo"
    assert start3["model_key"] == "right"
    assert (await Conversation.objects.aget(pk=conversation)).model_key == "right"


async def test_switching_to_a_smaller_window_trims_the_history(
    user, two_models, second_openai, aentry
):
    await aentry(
        "tiny",
        base_url=second_openai.base_url,
        context_window=700,
        max_output_tokens=100,
    )
    comm = await connect(user)
    start, _ = await turn(comm, "old " * 1500, model="left")
    await turn(comm, "Now briefly", conversation=start["conversation"], model="tiny")
    await comm.disconnect()
    sent = [m["content"] for m in second_openai.last_request.messages]
    assert sent[-1] == "Now briefly"
    assert not any(c.startswith("old old") for c in sent)


async def test_a_group_restricted_model_is_refused_naming_why(
    user, two_models, fake_openai
):
    left, right = two_models
    staff = await Group.objects.acreate(name="staff")
    await sync_to_async(right.groups.set)([staff])
    comm = await connect(user)
    error, _ = await turn(comm, model="right")
    assert error["type"] == "error" and error["code"] == "invalid"
    assert "may not use" in error["message"] and "Right" in error["message"]
    await sync_to_async(user.groups.add)(staff)
    start, frames = await turn(comm, model="right")
    await comm.disconnect()
    assert start["type"] == "start" and frames[-1]["status"] == "complete"


async def test_disabled_and_unknown_models_are_refused(user, two_models):
    right = await CatalogueEntry.objects.aget(key="right")
    right.enabled = False
    await right.asave()
    comm = await connect(user)
    disabled, _ = await turn(comm, model="right")
    unknown, _ = await turn(comm, model="nope")
    await comm.disconnect()
    assert disabled["code"] == "invalid" and "disabled" in disabled["message"]
    assert unknown["code"] == "invalid" and "no model 'nope'" in unknown["message"]
    assert await Message.objects.acount() == 0


async def test_a_conversation_whose_model_was_disabled_falls_back_with_a_note(
    user, two_models, fake_openai, second_openai
):
    comm = await connect(user)
    start, _ = await turn(comm, model="right")
    right = await CatalogueEntry.objects.aget(key="right")
    right.enabled = False
    await right.asave()
    start2, frames = await turn(comm, conversation=start["conversation"])
    await comm.disconnect()
    assert start2["model_key"] == "left"
    assert start2["model_note"] == "Right is no longer available; Left answered."
    assert text_of(frames) == "left says hi" and second_openai.request_count == 1


async def test_an_unset_key_variable_is_provider_unavailable_and_never_shown(
    user, two_models, monkeypatch
):
    variable = f"TEST_KEY_{uuid.uuid4().hex[:6].upper()}"
    monkeypatch.delenv(variable, raising=False)
    right = await CatalogueEntry.objects.aget(key="right")
    right.api_key_env = variable
    await right.asave()
    comm = await connect(user)
    error, _ = await turn(comm, model="right")
    monkeypatch.setenv(variable, "sk-secret-value")
    start, frames = await turn(comm, model="right")
    await comm.disconnect()
    assert error["code"] == "provider_unavailable" and variable not in str(error)
    assert frames[-1]["status"] == "complete"
    assert "sk-secret-value" not in str(start) + str(frames)


async def test_a_fallback_entry_answers_when_the_model_fails(
    user, two_models, fake_openai, second_openai, settings
):
    from tests.servers.fake_openai import Status

    settings.LLM_MAX_RETRIES = 0
    left, right = two_models
    from chat.models import CatalogueFallback

    await CatalogueFallback.objects.acreate(entry=left, fallback=right, position=0)
    fake_openai.default = Status(500)
    comm = await connect(user)
    start, frames = await turn(comm, model="left")
    await comm.disconnect()
    assert text_of(frames) == "right says yo"
    calls = [
        c
        async for c in ModelCall.objects.filter(message_id=start["message"]).order_by(
            "id"
        )
    ]
    assert [(c.catalogue_key, c.status) for c in calls] == [
        ("left", "failed"),
        ("right", "complete"),
    ]
    assert calls[1].cost == cost(
        right_spec := (await _spec("right")),
        input_tokens=200,
        cached_input_tokens=0,
        output_tokens=3,
    )
    assert right_spec.input_per_mtok == Decimal("5.00")


async def _spec(key):
    from chat.catalogue.store import get_catalogue

    return (await get_catalogue()).get(key).spec


async def test_a_user_who_may_use_no_model_is_told_so(user, two_models):
    staff = await Group.objects.acreate(name="staff")
    for entry in await sync_to_async(list)(CatalogueEntry.objects.all()):
        await sync_to_async(entry.groups.set)([staff])
    hello = await hello_of(user)
    assert hello["models"] == []
    comm = await connect(user)
    error, _ = await turn(comm)
    await comm.disconnect()
    assert error["code"] == "invalid" and "No model is available" in error["message"]


@pytest.mark.llama
async def test_the_local_model_and_the_test_server_stream_at_once(
    user, other_user, fake_openai, llama_server, aentry
):
    fake_openai.default = Reply(
        tokens=[f"f{i} " for i in range(30)], delay=0.02, usage=(50, 30)
    )
    await aentry("remote", base_url=fake_openai.base_url, is_default=True)
    await aentry(
        "local",
        model="smollm2",
        base_url=llama_server.base_url,
        context_window=2048,
        max_output_tokens=48,
        input_per_mtok=Decimal(0),
        cached_input_per_mtok=Decimal(0),
        output_per_mtok=Decimal(0),
        temperature=0.0,
    )
    alice, bob = await connect(user), await connect(other_user)
    (a_start, a_frames), (b_start, b_frames) = await asyncio.gather(
        turn(alice, "Name three colours.", model="local"),
        turn(bob, model="remote"),
    )
    await alice.disconnect()
    await bob.disconnect()
    assert a_frames[-1]["status"] == "complete" and text_of(a_frames).strip()
    assert text_of(b_frames).startswith("f0 f1")
    local = await ModelCall.objects.aget(message_id=a_start["message"])
    remote = await ModelCall.objects.aget(message_id=b_start["message"])
    assert (local.catalogue_key, local.endpoint, local.cost) == (
        "local",
        llama_server.base_url,
        Decimal(0),
    )
    assert (remote.catalogue_key, remote.endpoint) == ("remote", fake_openai.base_url)
    assert remote.cost == Decimal("0.00011")  # 50 * 1.00 + 30 * 2.00 per million
