"""Feedback on replies: the API (owner-checked, CSRF-protected, updatable), what
is stored with it, the approval rate per model and the evaluation dataset."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import feedback
from chat.models import Feedback
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(user):
    conv = factories.conversation(user, model_key="fast")
    factories.message(conv, content="What is 2+2?")
    answer = factories.message(conv, role="assistant", content="4", model="gpt-4o-mini")
    factories.model_call(
        user, conversation=conv, message=answer, catalogue_key="fast-entry"
    )
    return answer


def _url(message) -> str:
    return reverse("chat:message-feedback", args=[message.pk])


def _rate(client, message, **body):
    return client.post(_url(message), body, content_type="application/json")


def test_a_thumb_is_stored_with_the_model_and_can_be_changed(client, user, reply):
    client.force_login(user)
    response = _rate(client, reply, rating="up")
    assert response.status_code == 200
    assert response.json() == {
        "message": str(reply.pk),
        "feedback": {"rating": "up", "comment": ""},
    }
    row = Feedback.objects.get(message=reply)
    assert (row.model, row.catalogue_key) == ("gpt-4o-mini", "fast-entry")
    assert row.user == user

    response = _rate(client, reply, rating="down", comment="Wrong <b>units</b>")
    assert response.json()["feedback"] == {"rating": "down", "comment": "Wrong units"}
    assert Feedback.objects.get().rating == "down"

    assert _rate(client, reply, rating=None).json()["feedback"] is None
    assert not Feedback.objects.exists()


def test_the_conversation_shows_each_replys_feedback(client, user, reply):
    client.force_login(user)
    _rate(client, reply, rating="down", comment="too short")
    url = reverse("chat:conversation-detail", args=[reply.conversation_id])
    question, answer = client.get(url).json()["messages"]
    assert question["feedback"] is None
    assert answer["feedback"] == {"rating": "down", "comment": "too short"}


def test_the_catalogue_key_falls_back_to_the_conversations_model(client, user):
    conv = factories.conversation(user, model_key="fast")
    answer = factories.message(conv, role="assistant", content="hi", model="m")
    client.force_login(user)
    _rate(client, answer, rating="up")
    assert Feedback.objects.get().catalogue_key == "fast"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"rating": "great"}, "invalid"),
        ({"rating": 1}, "invalid"),
        ({}, "invalid"),
        ({"rating": "up", "comment": 5}, "invalid"),
        ({"rating": "up", "comment": "x" * 2001}, "too_long"),
        ({"rating": "up", "extra": 1}, "invalid"),
    ],
)
def test_bad_feedback_is_refused_and_changes_nothing(client, user, reply, body, code):
    client.force_login(user)
    response = client.post(_url(reply), body, content_type="application/json")
    assert response.status_code in (400, 413)
    assert response.json()["code"] == code
    assert not Feedback.objects.exists()


def test_malformed_json_is_a_clear_400(client, user, reply):
    client.force_login(user)
    response = client.post(_url(reply), "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_someone_elses_reply_is_answered_like_an_unknown_one(client, other_user, reply):
    client.force_login(other_user)
    theirs = _rate(client, reply, rating="up")
    unknown = client.post(
        reverse("chat:message-feedback", args=["00000000-0000-4000-8000-000000000000"]),
        {"rating": "up"},
        content_type="application/json",
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert not Feedback.objects.exists()


def test_a_user_message_or_a_streaming_reply_cannot_be_rated(client, user, reply):
    client.force_login(user)
    assert _rate(client, reply.parent, rating="up").status_code == 404
    reply.status = "streaming"
    reply.save()
    response = _rate(client, reply, rating="up")
    assert response.status_code == 400 and "ended" in response.json()["message"]


def test_feedback_needs_login_and_csrf(user, reply):
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(_url(reply), {"rating": "up"}, "application/json")
    assert response.status_code in (401, 403)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert _rate(client, reply, rating="up").status_code == 403
    client.get(reverse("chat:index"))
    token = client.cookies["csrftoken"].value
    response = client.post(
        _url(reply),
        {"rating": "up"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert client.get(_url(reply)).status_code == 405


def _rated(user, model, rating, **fields):
    conv = factories.conversation(user)
    factories.message(conv, content=f"q {model} {rating}")
    answer = factories.message(
        conv, role="assistant", content=f"a {model}", model=model
    )
    return Feedback.objects.create(
        message=answer, user=user, rating=rating, model=model, **fields
    )


def test_approval_by_model_counts_thumbs_in_the_range(user):
    for rating in ("up", "up", "up", "down"):
        _rated(user, "alpha", rating)
    _rated(user, "beta", "down")
    old = _rated(user, "beta", "up")
    Feedback.objects.filter(pk=old.pk).update(
        updated=timezone.now() - timedelta(days=40)
    )
    now = timezone.now()
    table = feedback.approval_by_model(since=now - timedelta(days=30), until=now)
    assert table == [
        {"model": "alpha", "up": 3, "down": 1, "rated": 4, "share": 0.75},
        {"model": "beta", "up": 0, "down": 1, "rated": 1, "share": 0.0},
    ]


def test_the_dataset_holds_prompt_reply_rating_comment_and_model(user):
    _rated(user, "alpha", "up", comment="nice")
    _rated(user, "beta", "down")
    out = StringIO()
    call_command("export_feedback", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    fields = ("prompt", "reply", "rating", "comment", "model")
    assert [tuple(row[f] for f in fields) for row in rows] == [
        ("q alpha up", "a alpha", "up", "nice", "alpha"),
        ("q beta down", "a beta", "down", "", "beta"),
    ]


def test_the_dataset_command_filters_by_rating_and_writes_a_file(user, tmp_path):
    _rated(user, "alpha", "up")
    _rated(user, "beta", "down")
    target = tmp_path / "feedback.jsonl"
    call_command("export_feedback", "--rating=down", f"--output={target}")
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["model"] for r in rows] == ["beta"]
