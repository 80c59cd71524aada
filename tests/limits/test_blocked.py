"""A user blocked while their socket is open cannot start another reply on it:
is_active is read afresh in the database trip that stores each message."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from chat import protocol
from chat.conversations import Redo
from chat.errors import AccountBlocked
from chat.models import Message
from chat.turns import turn_begin, turn_redo
from tests.ws import connect, read_reply, send_frame

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def admin_action(action: str, user) -> None:
    """Run a user action of the admin's user list, as an operator does."""
    User = get_user_model()
    operator = User.objects.create_superuser(
        f"ops-{action}", "ops@example.com", "ops-pw-0123456789!"
    )
    client = Client()
    client.force_login(operator)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": action, "_selected_action": [user.pk]},
    )
    assert response.status_code == 302


async def test_blocked_user_is_refused_on_an_open_socket(user, fake_model):
    """After the admin's block action the socket's next send gets an error frame
    `account_blocked`; nothing is stored and the model is not called. Unblocked,
    the same socket can send again."""
    comm = await connect(user)
    try:
        await comm.send_json_to(send_frame("Before"))
        assert (await comm.receive_json_from())["type"] == "start"
        assert (await read_reply(comm))[-1]["status"] == "complete"
        stored = await Message.objects.acount()

        await admin_action("block_users", user)
        frame = send_frame("After")
        await comm.send_json_to(frame)
        refused = await comm.receive_json_from()
        assert refused["type"] == "error" and refused["id"] == frame["id"]
        assert refused["code"] == "account_blocked"
        assert refused["message"] == AccountBlocked.message
        assert "retry_after" not in refused
        assert await Message.objects.acount() == stored
        assert len(fake_model.calls) == 1

        await admin_action("unblock_users", user)
        await comm.send_json_to(send_frame("Again"))
        assert (await comm.receive_json_from())["type"] == "start"
        assert (await read_reply(comm))[-1]["status"] == "complete"
        assert len(fake_model.calls) == 2
    finally:
        await comm.disconnect()


async def begin(user, text="Hello"):
    return await turn_begin(
        user=user, client_id=uuid.uuid4(), conversation_id=None, content=text
    )


async def test_blocked_user_is_refused_even_with_limits_off(user, settings):
    settings.CHAT_LIMITS_ENABLED = False
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=False)
    with pytest.raises(AccountBlocked) as refused:
        await begin(user)  # the user object as loaded, still active
    frame = protocol.error_frame(refused.value)
    assert frame["code"] == "account_blocked"
    assert await Message.objects.acount() == 0


async def test_blocked_refusal_gives_the_admission_back(user):
    """Admission runs before the store refuses: its slot and hold are released, so
    the user (one reply at a time) is not left `busy` once unblocked."""
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=False)
    with pytest.raises(AccountBlocked):
        await begin(user)
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=True)
    turn = await begin(user, "Again")
    assert turn.exchange.created
    await turn.admission.settle()


async def test_blocked_user_cannot_regenerate(user, fake_model):
    comm = await connect(user)
    try:
        await comm.send_json_to(send_frame("Before"))
        start = await comm.receive_json_from()
        assert (await read_reply(comm))[-1]["status"] == "complete"
    finally:
        await comm.disconnect()
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=False)
    with pytest.raises(AccountBlocked):
        await turn_redo(
            user=user,
            client_id=uuid.uuid4(),
            message_id=uuid.UUID(start["message"]),
            mode=Redo.REGENERATE,
        )
    assert len(fake_model.calls) == 1


async def test_deleted_user_is_refused(user):
    await get_user_model().objects.filter(pk=user.pk).adelete()
    with pytest.raises(AccountBlocked):
        await begin(user)
