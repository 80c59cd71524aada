"""The response cache in a turn, through the real WebSocket app: a hit replays the
stored reply, is ledgered at no cost, and never crosses users."""

from decimal import Decimal

import pytest

from chat.models import Message, ModelCall
from tests.ws import one_turn, text_of

pytestmark = pytest.mark.django_db(transaction=True)


async def ask(user, content="What is the answer?"):
    return await one_turn(user, content)


def kinds(frames):
    return [f["type"] for f in frames if f["type"] != "delta"]


async def test_same_question_twice_calls_the_model_once(fake_model, user):
    first_start, first = await ask(user)
    second_start, second = await ask(user)
    assert len(fake_model.calls) == 1
    assert text_of(second) == text_of(first) == "Hello, world!"
    assert kinds(second) == kinds(first)
    assert second[-1]["status"] == "complete"
    miss = await ModelCall.objects.aget(message_id=first_start["message"])
    hit = await ModelCall.objects.aget(message_id=second_start["message"])
    assert (miss.cache_hit, hit.cache_hit) == (False, True)
    assert hit.cost == Decimal(0)
    assert (hit.input_tokens, hit.output_tokens) == (miss.input_tokens, 4)
    reply = await Message.objects.aget(pk=second_start["message"])
    assert reply.content == "Hello, world!"
    first_reply = await Message.objects.aget(pk=first_start["message"])
    assert reply.cache_key == first_reply.cache_key != ""


async def test_another_user_never_gets_the_cached_reply(fake_model, user, other_user):
    await ask(user)
    await ask(other_user)
    assert len(fake_model.calls) == 2


async def test_a_stopped_or_failed_reply_is_not_reused(fake_model, user):
    fake_model.fail_after = 2
    await ask(user)
    fake_model.fail_after = None
    _, frames = await ask(user)
    assert len(fake_model.calls) == 2
    assert text_of(frames) == "Hello, world!"
