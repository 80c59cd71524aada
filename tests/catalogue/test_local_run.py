"""`make run`: the local model joins a running server, and the login box."""

from __future__ import annotations

from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chat.catalogue.seeding import local_model_register
from tests.servers.fake_openai import Reply
from tests.ws import connect, read_reply, send_frame


@pytest.mark.django_db(transaction=True)
async def test_the_local_model_becomes_the_default_without_restart(
    user, fake_openai, settings
):
    settings.LLM_BACKEND = "demo"
    settings.CHAT_DEMO_DELAY_MS = 0
    fake_openai.default = Reply(tokens=("local ", "reply"))
    comm = await connect(user)
    await comm.send_json_to(send_frame("Hi"))
    before = await comm.receive_json_from(timeout=30)
    await read_reply(comm, wait=30)
    await sync_to_async(local_model_register)(base_url=fake_openai.base_url)
    await comm.send_json_to(send_frame("Hi again"))
    after = await comm.receive_json_from(timeout=30)
    frames = await read_reply(comm, wait=30)
    await comm.disconnect()
    assert before["demo"] is True and before["model_key"] == "default"
    assert after["demo"] is False and after["model_key"] == "local"
    assert frames[-1]["content"] == "local reply"
    assert fake_openai.last_request.body["model"] == "smollm2"


def test_the_login_box_shows_the_password_once(db, settings):
    settings.DEBUG = True
    first, later = StringIO(), StringIO()
    call_command("ensure_local_user", url="http://127.0.0.1:8000/", stdout=first)
    call_command("ensure_local_user", url="http://127.0.0.1:8000/", stdout=later)
    assert "password: " in first.getvalue() and first.getvalue().startswith("+-")
    assert "password: " not in later.getvalue()
    assert "manage.py changepassword local" in later.getvalue()
    assert "http://127.0.0.1:8000/" in later.getvalue()
