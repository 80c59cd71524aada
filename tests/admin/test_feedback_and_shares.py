"""Admin: the feedback list and its dataset export (audited), the share links
(every user's, revocable, no text shown), and the dashboard's share of thumbs up."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from chat.models import Feedback, Share
from tests import factories

pytestmark = pytest.mark.django_db
SECRET_TEXT = "my passport number is X1234567"


def _rated(user, model, rating, *, comment=""):
    conv = factories.conversation(user)
    factories.message(conv, content=f"question for {model}")
    answer = factories.message(conv, role="assistant", content=f"answer by {model}")
    return Feedback.objects.create(
        message=answer, user=user, rating=rating, model=model, comment=comment
    )


def test_the_feedback_list_shows_ratings_and_comments(staff_client, user):
    _rated(user, "alpha", "down", comment="made up a citation")
    response = staff_client.get(reverse("admin:chat_feedback_changelist"))
    assert response.status_code == 200
    assert b"made up a citation" in response.content
    assert b"question for alpha" not in response.content, "no text on the list"


def test_exporting_feedback_gives_the_dataset_and_is_logged(staff_client, user):
    rows = [_rated(user, "alpha", "up"), _rated(user, "beta", "down", comment="no")]
    response = staff_client.post(
        reverse("admin:chat_feedback_changelist"),
        {"action": "export_dataset", "_selected_action": [r.pk for r in rows]},
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    data = sorted((json.loads(line) for line in lines), key=lambda r: r["model"])
    assert [(r["prompt"], r["reply"], r["rating"], r["comment"]) for r in data] == [
        ("question for alpha", "answer by alpha", "up", ""),
        ("question for beta", "answer by beta", "down", "no"),
    ]
    entry = LogEntry.objects.get()
    assert "dataset" in entry.change_message and entry.object_repr == "2 feedback rows"


def test_exporting_feedback_needs_the_right_to_read_messages(user):
    row = _rated(user, "alpha", "up")
    viewer = factories.user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_feedback"))
    client = Client()
    client.force_login(viewer)
    assert client.get(reverse("admin:chat_feedback_changelist")).status_code == 200
    response = client.post(
        reverse("admin:chat_feedback_changelist"),
        {"action": "export_dataset", "_selected_action": [row.pk]},
    )
    assert response.status_code == 403
    assert not LogEntry.objects.exists()


def test_staff_see_every_share_without_its_text_and_can_revoke_them(
    staff_client, user, other_user
):
    client = Client()
    tokens = []
    for owner in (user, other_user):
        conv = factories.conversation(owner)
        factories.message(conv, content=SECRET_TEXT)
        client.force_login(owner)
        response = client.post(
            reverse("chat:conversation-share", args=[conv.pk]),
            {},
            content_type="application/json",
        )
        tokens.append(response.json()["url"])
    listing = staff_client.get(reverse("admin:chat_share_changelist"))
    assert listing.status_code == 200
    assert listing.content.count(b'class="action-select"') == 2
    assert SECRET_TEXT.encode() not in listing.content
    detail = staff_client.get(
        reverse("admin:chat_share_change", args=[Share.objects.first().pk])
    )
    assert detail.status_code == 200 and SECRET_TEXT.encode() not in detail.content
    staff_client.post(
        reverse("admin:chat_share_changelist"),
        {
            "action": "revoke_links",
            "_selected_action": list(Share.objects.values_list("pk", flat=True)),
        },
    )
    assert not Share.objects.filter(revoked__isnull=True).exists()
    for url in tokens:
        assert Client().get(url).status_code == 410


def test_the_dashboard_shows_the_share_of_thumbs_up_per_model(staff_client, user):
    for rating in ("up", "up", "up", "down"):
        _rated(user, "alpha", rating)
    _rated(user, "beta", "down")
    response = staff_client.get(reverse("admin:chat_modelcall_dashboard"))
    assert response.status_code == 200
    assert b"Replies rated" in response.content
    assert b'data-model="alpha" data-share="0.7500"' in response.content
    assert b'data-model="beta" data-share="0.0000"' in response.content
    assert [row["model"] for row in response.context["approval"]] == ["alpha", "beta"]
