"""The sidebar's list (pages pinned first, then newest, with no cap; archived ones
apart) and PATCH /api/conversations/<id>/: validated, CSRF-protected, and someone
else's conversation answered exactly like an unknown one."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("chat:conversation-list")


def detail(pk):
    return reverse("chat:conversation-detail", args=[pk])


def patch(client, pk, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.patch(detail(pk), data=data, content_type="application/json")


@pytest.fixture
def many(user):
    """250 conversations an hour apart, the newest first, three of them pinned."""
    now = timezone.now()
    rows = [
        factories.build_conversation(user, title=f"Chat {i}", pinned=i in (7, 120, 249))
        for i in range(250)
    ]
    Conversation.objects.bulk_create(rows)
    for i, row in enumerate(rows):
        Conversation.objects.filter(pk=row.pk).update(updated=now - timedelta(hours=i))
    return rows


def test_pages_go_past_200_pinned_first_each_once(client, user, many):
    client.force_login(user)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 60} | ({"cursor": cursor} if cursor else {})
        body = client.get(LIST, params).json()
        seen += body["conversations"]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 5 and len(seen) == 250
    assert len({c["id"] for c in seen}) == 250
    assert [c["title"] for c in seen[:3]] == ["Chat 7", "Chat 120", "Chat 249"]
    assert all(c["pinned"] for c in seen[:3]) and not any(c["pinned"] for c in seen[3:])
    rest = [c["updated"] for c in seen[3:]]
    assert rest == sorted(rest, reverse=True)


def test_archived_ones_are_listed_apart(client, user, many):
    Conversation.objects.filter(title__in=["Chat 1", "Chat 2"]).update(archived=True)
    client.force_login(user)
    archived = client.get(LIST, {"archived": "1"}).json()
    assert [c["title"] for c in archived["conversations"]] == ["Chat 1", "Chat 2"]
    assert archived["next"] is None
    shown = client.get(LIST, {"limit": 100}).json()["conversations"]
    assert {"Chat 1", "Chat 2"}.isdisjoint(c["title"] for c in shown)


@pytest.mark.parametrize(
    "params",
    [{"cursor": "nonsense"}, {"cursor": "W3RydWVd"}, {"limit": "0"}, {"limit": "x"}],
)
def test_bad_paging_is_a_clear_400(client, user, params):
    client.force_login(user)
    response = client.get(LIST, params)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_rename_pin_archive(client, user):
    conversation = factories.conversation(user, title="Old")
    before = Conversation.objects.get(pk=conversation.pk).updated
    client.force_login(user)
    response = patch(client, conversation.pk, {"title": "  New\n name  "})
    assert response.status_code == 200
    assert response.json()["title"] == "New name"
    assert response.json()["title_source"] == "user"
    assert patch(client, conversation.pk, {"pinned": True}).json()["pinned"] is True
    body = patch(client, conversation.pk, {"archived": True, "pinned": False}).json()
    assert body["archived"] is True and body["pinned"] is False
    row = Conversation.objects.get(pk=conversation.pk)
    assert (row.title, row.title_source, row.pinned, row.archived) == (
        "New name",
        "user",
        False,
        True,
    )
    # Renaming is not activity: the list's order does not change.
    assert row.updated == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Nothing to change"),
        ({"title": ""}, "cannot be empty"),
        ({"title": "  \u200b "}, "cannot be empty"),
        ({"title": "x" * 201}, "at most 200"),
        ({"title": "x" * 5000}, "at most 1000"),
        ({"title": 5}, "title"),
        ({"pinned": "yes"}, "pinned"),
        ({"archived": 1}, "archived"),
        ({"owner": 2}, "Unknown field 'owner'"),
        ("[1, 2]", "JSON object"),
        ("{not json", "JSON object"),
        ("", "JSON object"),
    ],
)
def test_bad_changes_are_a_clear_400_and_change_nothing(client, user, body, words):
    conversation = factories.conversation(user, title="Kept")
    client.force_login(user)
    response = patch(client, conversation.pk, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and words in response.json()["message"]
    row = Conversation.objects.get(pk=conversation.pk)
    assert (row.title, row.pinned, row.archived) == ("Kept", False, False)


def test_someone_elses_is_answered_like_an_unknown_one(client, user, other_user):
    theirs = factories.conversation(other_user, title="Bob's")
    client.force_login(user)
    unknown = patch(client, uuid.uuid4(), {"title": "Mine now"})
    other = patch(client, theirs.pk, {"title": "Mine now"})
    assert unknown.status_code == other.status_code == 404
    assert unknown.json() == other.json()
    assert Conversation.objects.get(pk=theirs.pk).title == "Bob's"


def test_patch_needs_the_csrf_token(user):
    conversation = factories.conversation(user, title="Kept")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert patch(client, conversation.pk, {"title": "New"}).status_code == 403
    client.get(reverse("chat:index"))
    token = client.cookies["csrftoken"].value
    response = client.patch(
        detail(conversation.pk),
        data=json.dumps({"title": "New"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert Conversation.objects.get(pk=conversation.pk).title == "New"


def test_patch_needs_login(client, user):
    conversation = factories.conversation(user)
    assert patch(client, conversation.pk, {"pinned": True}).status_code == 401
