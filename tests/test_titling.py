"""Titles from the model over real HTTP (the scripted OpenAI-compatible server and
the local SmolLM2): after the first reply, in the background, in the ledger, sent
to every socket of the user; a failure keeps the first line; a rename wins."""

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from langchain_core.messages import HumanMessage

from chat import turns
from chat.delivery import following
from chat.llm.registry import cost, get_spec
from chat.models import Conversation, ModelCall
from chat.titling import TITLE_MAX_TOKENS, titles_pending
from tests.servers.fake_openai import Reply, Status
from tests.ws import connect, read_reply, send_frame

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "```python\nprint(1)\n```\nHow do I plan a **trip** to Lisbon?"


@pytest.fixture(autouse=True)
def _titles_on(settings):
    settings.CHAT_TITLES = True


async def first_turn(user, content=QUESTION):
    """A new conversation's first turn on one socket, a second socket listening;
    both sockets, still open, and the start frame."""
    comm, other = await connect(user), await connect(user)
    await comm.send_json_to(send_frame(content))
    start = await comm.receive_json_from(timeout=30)
    assert start["type"] == "start", start
    frames = await read_reply(comm, wait=90)
    assert frames[-1]["status"] == "complete"
    return comm, other, start


async def next_frame(comm, wait=30.0) -> dict:
    return json.loads(await comm.receive_from(timeout=wait))


async def test_the_title_arrives_on_every_socket_and_is_in_the_ledger(
    user, fake_openai, via
):
    fake_openai.enqueue(
        Reply(tokens=("Start", " in", " Alfama."), usage=(40, 3)),
        Reply(tokens=('"**Planning** a Lisbon trip."',), usage=(61, 7)),
    )
    via(fake_openai.base_url)
    comm, other, start = await first_turn(user)
    # The first line of prose, never the code fence, until the model answers.
    assert start["title"] == "How do I plan a trip to Lisbon?"
    for socket in (comm, other):
        frame = await next_frame(socket)
        assert frame == {
            "type": "title",
            "conversation": start["conversation"],
            "title": "Planning a Lisbon trip",
            "source": "model",
        }
    await comm.disconnect()
    await other.disconnect()

    conversation = await Conversation.objects.aget(pk=start["conversation"])
    assert conversation.title == "Planning a Lisbon trip"
    assert conversation.title_source == "model"
    request = fake_openai.requests[1]
    assert request.body.get("stream") in (None, False)
    assert request.body["temperature"] == 0
    assert request.body["max_tokens"] == TITLE_MAX_TOKENS
    assert "Lisbon" in request.messages[-1]["content"]
    assert "Alfama" in request.messages[-1]["content"]
    call = await ModelCall.objects.aget(purpose="title")
    expected = cost(
        get_spec("gpt-4o-mini"), input_tokens=61, cached_input_tokens=0, output_tokens=7
    )
    assert (call.input_tokens, call.output_tokens) == (61, 7)
    assert call.cost == expected and expected > Decimal(0)
    assert call.user_id == user.pk and call.conversation_id == conversation.pk
    assert call.status == "complete" and not call.cache_hit
    assert call.endpoint == fake_openai.base_url and call.message_id is None


async def test_a_failed_title_call_keeps_the_first_line(user, fake_openai, via):
    fake_openai.enqueue(Reply(tokens=("Fine.",)), Status(500))
    via(fake_openai.base_url, LLM_MAX_RETRIES=0)
    comm, other, start = await first_turn(user)
    await titles_pending()
    await comm.disconnect()
    await other.disconnect()
    conversation = await Conversation.objects.aget(pk=start["conversation"])
    assert conversation.title == "How do I plan a trip to Lisbon?"
    call = await ModelCall.objects.aget(purpose="title")
    assert call.status == "failed" and call.error_code == "provider_unavailable"
    assert call.cost == 0
    # Asked once: the next reply does not ask again.
    comm = await connect(user)
    await comm.send_json_to(
        send_frame("And Porto?", conversation=start["conversation"])
    )
    await comm.receive_json_from()
    await read_reply(comm)
    await titles_pending()
    await comm.disconnect()
    assert fake_openai.request_count == 3
    assert await ModelCall.objects.filter(purpose="title").acount() == 1


def _rename(user, conversation_id, title):
    client = Client()
    client.force_login(user)
    return client.patch(
        reverse("chat:conversation-detail", args=[conversation_id]),
        data=json.dumps({"title": title}),
        content_type="application/json",
    )


async def test_a_renamed_conversation_is_never_retitled(user, fake_openai, via):
    fake_openai.enqueue(Reply(tokens=[f"w{i} " for i in range(20)], delay=0.05))
    via(fake_openai.base_url)
    comm = await connect(user)
    await comm.send_json_to(send_frame("Hello"))
    start = await comm.receive_json_from(timeout=30)
    response = await sync_to_async(_rename)(user, start["conversation"], "My own")
    assert response.status_code == 200
    rename = await next_frame(comm)
    while rename["type"] != "title":
        rename = await next_frame(comm)
    assert rename["title"] == "My own" and rename["source"] == "user"
    await read_reply(comm, wait=30)
    await titles_pending()
    await comm.disconnect()
    assert fake_openai.request_count == 1
    conversation = await Conversation.objects.aget(pk=start["conversation"])
    assert (conversation.title, conversation.title_source) == ("My own", "user")


async def test_a_rename_while_the_model_thinks_wins(user, fake_openai, via):
    fake_openai.enqueue(
        Reply(tokens=("Sure.",)), Reply(tokens=("Model title",), first_delay=1.0)
    )
    via(fake_openai.base_url)
    comm, other, start = await first_turn(user, "Hello there")
    assert await fake_openai.async_wait_for_requests(2, within=5)
    await sync_to_async(_rename)(user, start["conversation"], "Mine")
    await titles_pending()
    await comm.disconnect()
    await other.disconnect()
    conversation = await Conversation.objects.aget(pk=start["conversation"])
    assert conversation.title == "Mine"
    # The call happened and is billed all the same.
    assert await ModelCall.objects.filter(purpose="title").acount() == 1


async def test_the_title_takes_no_reply_slot(user, fake_openai, via, settings):
    """With one reply at a time, a second message sent while the title is being
    made is not busy."""
    settings.CHAT_MAX_CONCURRENT_REPLIES = 1
    fake_openai.enqueue(
        Reply(tokens=("One.",)),
        Reply(tokens=("A slow title",), first_delay=1.5),
        Reply(tokens=("Two.",)),
    )
    via(fake_openai.base_url)
    comm, other, start = await first_turn(user, "First")
    assert await fake_openai.async_wait_for_requests(2, within=5)
    await comm.send_json_to(send_frame("Second", conversation=start["conversation"]))
    second = await comm.receive_json_from(timeout=30)
    assert second["type"] == "start", second
    frames = await read_reply(comm, wait=30)
    assert frames[-1]["status"] == "complete"
    await titles_pending()
    await comm.disconnect()
    await other.disconnect()


async def test_api_turns_are_not_titled(user, fake_openai, via):
    """A conversation the OpenAI-compatible API makes per call is not titled."""
    via(fake_openai.base_url)
    turn = await turns.turn_begin_messages(
        user=user, client_id=uuid.uuid4(), messages=[HumanMessage("Hi")]
    )
    turns.turn_start(turn)
    async with asyncio.timeout(30):
        frames = [f async for f in following.reply_frames(turn.reply_id, after=0)]
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "complete"
    await titles_pending()
    assert fake_openai.request_count == 1
    assert not await ModelCall.objects.filter(purpose="title").aexists()


@pytest.mark.llama
async def test_the_local_model_gives_a_short_plain_title(user, llama_server, via):
    via(
        llama_server.base_url,
        model="smollm2",
        LLM_MAX_TOKENS=48,
        LLM_TEMPERATURE=0.0,
        LLM_CONTEXT_WINDOW=2048,
    )
    comm, other, start = await first_turn(
        user, "What are good vegetables to grow on a balcony in summer?"
    )
    frame = await next_frame(other, wait=60)
    await comm.disconnect()
    await other.disconnect()
    assert frame["type"] == "title" and frame["source"] == "model"
    title = frame["title"]
    assert 0 < len(title) <= 60 and "\n" not in title
    assert not set(title) & set('*#`[]<>"“”'), title
    conversation = await Conversation.objects.aget(pk=start["conversation"])
    assert conversation.title == title
    call = await ModelCall.objects.aget(purpose="title")
    assert call.status == "complete" and call.output_tokens > 0
    assert call.input_tokens > 0 and call.endpoint == llama_server.base_url
