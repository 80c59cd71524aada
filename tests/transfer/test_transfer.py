"""Export and import: Markdown and JSON exports (owner-checked), the round trip
JSON → import → the same tree, ChatGPT's conversations.json with branches, and
bad files (malformed, cycles, missing parents, wrong types, oversize), each a
clear error that stores nothing."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from chat import tree
from chat.models import Conversation, Message, ModelCall
from tests import factories

pytestmark = pytest.mark.django_db
CHATGPT = Path(__file__).parents[1] / "data" / "chatgpt_conversations.json"


@pytest.fixture
def branched(user):
    """Q1 → (A1, A1' regenerated) and an edit Q1' → A2 → Q3 → A3 (continued by
    A3+); the edited branch is active."""
    conv = factories.conversation(user, title="Branches", model_key="default")
    q1 = factories.message(conv, content="First question")
    factories.message(
        conv,
        role="assistant",
        content="First answer",
        model="gpt-4o-mini",
        input_tokens=12,
        output_tokens=3,
        cost=Decimal("0.00012"),
        ttft_ms=150,
    )
    factories.message(
        conv, role="assistant", content="Regenerated answer", parent=q1, model="m2"
    )
    factories.message(conv, content="Edited question", parent=None)
    factories.message(conv, role="assistant", content="Edited answer", model="m3")
    factories.message(conv, content="Third question `<b>kept</b>`")
    factories.message(
        conv, role="assistant", content="Cut sh", status="cancelled", model="m3"
    )
    factories.message(conv, role="assistant", content="ort, and on.", model="m3")
    conv.refresh_from_db()
    return conv


def _shape(conversation: Conversation) -> set:
    """The tree as (role, content, model, parent's content), order-free."""
    rows = conversation.messages.select_related("parent")
    return {
        (m.role, m.content, m.model, m.status, m.parent.content if m.parent else None)
        for m in rows
    }


def _export(client, conversation, kind="json"):
    url = reverse("chat:conversation-export", args=[conversation.pk])
    return client.get(url, {"format": kind})


def _import(client, payload, **kwargs):
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(
        reverse("chat:conversation-import"),
        body,
        content_type="application/json",
        **kwargs,
    )


def test_json_export_holds_the_whole_tree_with_usage(client, user, branched):
    client.force_login(user)
    response = _export(client, branched)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert (data["format"], data["version"]) == ("djchat-conversations", 1)
    (conversation,) = data["conversations"]
    assert len(conversation["messages"]) == 8
    first = next(m for m in conversation["messages"] if m["content"] == "First answer")
    assert first["usage"] == {
        "input_tokens": 12,
        "cached_input_tokens": 0,
        "output_tokens": 3,
        "estimated": False,
    }
    assert (first["cost"], first["ttft_ms"], first["model"]) == (
        "0.00012000",
        150,
        "gpt-4o-mini",
    )
    assert conversation["active_leaf"] == str(branched.active_leaf_id)


def test_markdown_export_reads_the_branch_shown(client, user, branched):
    client.force_login(user)
    response = _export(client, branched, "md")
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Branches\n")
    assert "Edited question" in text and "Edited answer" in text
    assert "First question" not in text and "Regenerated" not in text
    assert "## Assistant (m3)" in text
    assert "Cut short, and on." in text, "a continuation joins its reply"


def test_round_trip_export_then_import_gives_the_same_tree(client, user, branched):
    client.force_login(user)
    exported = _export(client, branched).content
    response = _import(client, exported)
    assert response.status_code == 201, response.content
    (made,) = response.json()["imported"]
    copy_ = Conversation.objects.get(pk=made["id"])
    assert copy_.pk != branched.pk and copy_.title == "Branches"
    assert _shape(copy_) == _shape(branched)
    assert [m.content for m in tree.active_path(copy_)] == [
        m.content for m in tree.active_path(branched)
    ]
    original = {m.content: m for m in branched.messages.all()}
    for message in copy_.messages.all():
        before = original[message.content]
        assert message.created == before.created
        assert (message.input_tokens, message.cost) == (
            before.input_tokens,
            before.cost,
        )
    assert not ModelCall.objects.exists(), "an import bills no one"
    # Exported again, the copy is the same file but for ids and the export time.
    again = json.loads(_export(client, copy_).content)["conversations"][0]
    first = json.loads(exported)["conversations"][0]
    strip = {"id", "parent"}
    assert sorted(
        [{k: v for k, v in m.items() if k not in strip} for m in again["messages"]],
        key=json.dumps,
    ) == sorted(
        [{k: v for k, v in m.items() if k not in strip} for m in first["messages"]],
        key=json.dumps,
    )


def test_a_chatgpt_export_with_branches_is_imported(client, user):
    client.force_login(user)
    response = _import(client, CHATGPT.read_bytes())
    assert response.status_code == 201, response.content
    paris, haiku = (
        Conversation.objects.get(pk=c["id"]) for c in response.json()["imported"]
    )
    assert paris.title == "Three days in Paris"
    rows = {m.content: m for m in paris.messages.select_related("parent")}
    # System, tool and empty nodes are left out; their children move up.
    assert len(rows) == 7
    first = rows["Plan three days in Paris for me."]
    edited = rows["Plan three days in Paris with kids."]
    assert first.parent is None and edited.parent is None, "edits are versions"
    regenerated = rows["A regenerated plan: museums first, then the Seine."]
    assert regenerated.parent == first and regenerated.model == "gpt-4o"
    assert [str(v) for v in tree.versions_of(regenerated)] == [
        str(rows[next(k for k in rows if k.startswith("**Day 1"))].id),
        str(regenerated.id),
    ]
    # The image is left out, its text kept; the tool call is skipped.
    assert rows["That is the Panthéon."].parent == rows["What is this building?"]
    path = [m.content for m in tree.active_path(paris)]
    assert path[0] == "Plan three days in Paris with kids."
    assert path[-1] == "That is the Panthéon."
    assert first.created.timestamp() == pytest.approx(1733133601.0)
    assert paris.created.timestamp() == pytest.approx(1733133600.123)
    assert haiku.title == "Write a haiku about rain"
    (reply,) = haiku.messages.filter(role="assistant")
    assert reply.content.splitlines() == [
        "Soft rain on the roof",
        "puddles gather quiet light",
        "the street holds its breath",
    ]
    assert not ModelCall.objects.exists()


def test_an_upload_as_a_form_file_works_too(client, user):
    client.force_login(user)
    upload = io.BytesIO(CHATGPT.read_bytes())
    upload.name = "conversations.json"
    response = client.post(reverse("chat:conversation-import"), {"file": upload})
    assert response.status_code == 201
    assert len(response.json()["imported"]) == 2


def _chatgpt():
    return json.loads(CHATGPT.read_text())


def _cycle():
    data = _chatgpt()
    mapping = data[0]["mapping"]
    mapping["user-1"]["parent"] = "asst-1"
    mapping["asst-1"]["children"] = ["user-1"]
    return data


def _missing_parent():
    data = _chatgpt()
    data[1]["mapping"]["a-2"]["parent"] = "no-such-node"
    return data


def _self_parent():
    data = _chatgpt()
    data[1]["mapping"]["u-2"]["parent"] = "u-2"
    return data


def _wrong_parts():
    data = _chatgpt()
    data[1]["mapping"]["u-2"]["message"]["content"]["parts"] = "not a list"
    return data


def _ours_wrong_type(user_conversation):
    return {
        "format": "djchat-conversations",
        "version": 1,
        "conversations": [
            {"title": "x", "messages": [{"id": "a", "role": "user", "content": 5}]}
        ],
    }


BAD_FILES = {
    "malformed JSON": (b'[{"mapping": {', "not valid JSON"),
    "not UTF-8": ("caf\xe9".encode("latin-1"), "UTF-8"),
    "a cycle": (_cycle, "cycle"),
    "a missing parent": (_missing_parent, "not in the file"),
    "its own parent": (_self_parent, "cycle"),
    "parts not a list": (_wrong_parts, "'parts' must be a list"),
    "unknown shape": ({"hello": "world"}, "neither a djchat export"),
    "empty list": ([], "neither"),
    "too deep": (b"[" * 200 + b"]" * 200, "nested too deeply"),
    "a future version": (
        {"format": "djchat-conversations", "version": 99, "conversations": []},
        "version 99",
    ),
    "a wrong type": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {"title": "x", "messages": [{"id": "a", "role": "user", "content": 5}]}
            ],
        },
        "'content' has the wrong type",
    ),
    "a bad role": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {"messages": [{"id": "a", "role": "system", "content": "hi"}]}
            ],
        },
        "'role' must be",
    ),
    "a negative duration": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {
                    "messages": [
                        {"id": "a", "role": "user", "content": "hi"},
                        {
                            "id": "b",
                            "parent": "a",
                            "role": "assistant",
                            "content": "yo",
                            "ttft_ms": -5,
                        },
                    ]
                }
            ],
        },
        "'ttft_ms' is out of range",
    ),
    "a huge token count": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {
                    "messages": [
                        {
                            "id": "a",
                            "role": "assistant",
                            "content": "hi",
                            "usage": {"output_tokens": 2**40},
                        },
                    ]
                }
            ],
        },
        "'output_tokens' is out of range",
    ),
    "an absurd cost": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {
                    "messages": [
                        {
                            "id": "a",
                            "role": "assistant",
                            "content": "hi",
                            "cost": "1e30",
                        },
                    ]
                }
            ],
        },
        "'cost' is out of range",
    ),
    "a duplicate id": (
        {
            "format": "djchat-conversations",
            "version": 1,
            "conversations": [
                {
                    "messages": [
                        {"id": "a", "role": "user", "content": "hi"},
                        {"id": "a", "role": "assistant", "content": "yo"},
                    ]
                }
            ],
        },
        "used twice",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_a_clear_error_and_imports_nothing(client, user, case):
    payload, words = BAD_FILES[case]
    if callable(payload):
        payload = payload()
    client.force_login(user)
    response = _import(client, payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and words in body["message"], body
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_a_bad_conversation_late_in_the_file_leaves_nothing_half_imported(client, user):
    data = _chatgpt()
    data.append(copy.deepcopy(data[1]))
    data[-1]["mapping"]["a-2"]["parent"] = "gone"
    client.force_login(user)
    response = _import(client, data)
    assert response.status_code == 400
    assert "Conversation 3" in response.json()["message"]
    assert not Conversation.objects.exists()


def test_an_oversized_file_is_refused_with_413(client, user, settings):
    settings.CHAT_IMPORT_MAX_BYTES = 1000
    client.force_login(user)
    response = _import(client, CHATGPT.read_bytes())
    assert response.status_code == 413
    assert response.json()["code"] == "too_long"
    upload = io.BytesIO(CHATGPT.read_bytes())
    upload.name = "conversations.json"
    response = client.post(reverse("chat:conversation-import"), {"file": upload})
    assert response.status_code == 413
    assert not Conversation.objects.exists()


def test_imported_text_is_cleaned_like_typed_text(client, user):
    payload = {
        "format": "djchat-conversations",
        "version": 1,
        "conversations": [
            {
                "title": "<script>alert(1)</script>Hi\u200b there",
                "messages": [
                    {"id": "1", "role": "user", "content": "a<img src=x onerror=1>b"},
                    {
                        "id": "2",
                        "parent": "1",
                        "role": "assistant",
                        "content": "\u202eevil `<b>code</b>`",
                    },
                    {"id": "3", "parent": "2", "role": "user", "content": "<p></p>"},
                ],
            }
        ],
    }
    client.force_login(user)
    assert _import(client, payload).status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.title == "Hi there"
    contents = sorted(conversation.messages.values_list("content", flat=True))
    assert contents == ["ab", "evil `<b>code</b>`"], "empty once cleaned: left out"


def test_export_and_import_are_owner_checked_and_need_login(
    client, user, other_user, branched
):
    client.force_login(other_user)
    theirs = _export(client, branched)
    unknown = client.get(
        reverse(
            "chat:conversation-export", args=["00000000-0000-4000-8000-000000000000"]
        )
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert _export(client, branched, "pdf").status_code in (400, 404)
    anonymous = Client()
    assert _export(anonymous, branched).status_code == 401
    assert _import(anonymous, CHATGPT.read_bytes()).status_code == 401
    zipped = anonymous.get(reverse("chat:export-all"))
    assert zipped.status_code == 401


def test_an_unknown_format_is_a_clear_400(client, user, branched):
    client.force_login(user)
    response = _export(client, branched, "pdf")
    assert response.status_code == 400 and "format" in response.json()["message"]


def test_import_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert _import(client, CHATGPT.read_bytes()).status_code == 403
    assert not Conversation.objects.exists()


def test_export_all_is_a_zip_of_the_users_conversations_only(
    client, user, other_user, branched
):
    factories.conversation(other_user, title="Not mine")
    client.force_login(user)
    response = client.get(reverse("chat:export-all"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert "conversations.json" in names
    assert any(n.startswith("markdown/branches-") for n in names)
    data = json.loads(archive.read("conversations.json"))
    assert [c["title"] for c in data["conversations"]] == ["Branches"]
    # The zip's conversations.json imports again.
    response = _import(client, archive.read("conversations.json"))
    assert response.status_code == 201
    assert Conversation.objects.filter(user=user).count() == 2


def test_the_data_settings_page_exports_and_imports(client, user):
    client.force_login(user)
    page = client.get(reverse("chat:data-settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("chat:export-all") in html and 'type="file"' in html
    upload = io.BytesIO(CHATGPT.read_bytes())
    upload.name = "conversations.json"
    response = client.post(reverse("chat:data-settings"), {"file": upload}, follow=True)
    assert "Imported 2 conversations." in response.content.decode()
    bad = io.BytesIO(b"{nope")
    bad.name = "bad.json"
    response = client.post(reverse("chat:data-settings"), {"file": bad})
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()
    assert Conversation.objects.count() == 2
