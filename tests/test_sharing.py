"""Share links: made by the owner only, a frozen snapshot, unguessable tokens
stored as digests, a public noindex page, revocation, and continue-this-chat."""

import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Message, ModelCall, Share
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    conv = factories.conversation(user, title="Colours")
    factories.message(conv, content="Name a <b>colour</b>")
    factories.message(
        conv,
        role="assistant",
        content="**Red**, <script>alert(1)</script>",
        model="gpt-4o-mini",
    )
    return conv


def _share_url(conversation) -> str:
    return reverse("chat:conversation-share", args=[conversation.pk])


def _share(client, conversation, **body):
    return client.post(_share_url(conversation), body, content_type="application/json")


def _token(url: str) -> str:
    return re.search(r"/share/([^/]+)/$", url).group(1)


def test_sharing_returns_a_link_whose_token_is_stored_only_as_a_digest(
    client, user, conversation
):
    client.force_login(user)
    response = _share(client, conversation)
    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith("http://testserver/share/")
    token = _token(url)
    assert len(token) >= 43  # 32 random bytes: 256 bits
    share = Share.objects.get()
    assert share.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Share.objects.values().get())
    status = client.get(_share_url(conversation)).json()
    assert status["shared"] is True and status["messages"] == 2
    assert "url" not in status


def test_anyone_with_the_link_reads_the_conversation_sanitised_and_noindex(
    client, user, conversation
):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    anonymous = Client()
    page = anonymous.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>Red</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Name a colour" in html or "Name a &lt;b&gt;colour" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert page["Referrer-Policy"] == "same-origin"
    assert "script-src 'self' 'nonce-" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]
    assert "alice" not in html, "no owner name unless they opt in"
    assert "Log in to continue this chat" in html


def test_the_owners_name_shows_only_when_they_opt_in(client, user, conversation):
    client.force_login(user)
    url = _share(client, conversation, show_name=True).json()["url"]
    assert "Shared by alice" in Client().get(url).content.decode()


def test_the_snapshot_stops_at_share_time(client, user, conversation):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    factories.message(conversation, content="A later secret question")
    html = Client().get(url).content.decode()
    assert "Red" in html and "later secret" not in html


def test_sharing_again_replaces_the_link(client, user, conversation):
    client.force_login(user)
    first = _share(client, conversation).json()["url"]
    second = _share(client, conversation).json()["url"]
    assert first != second
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200


def test_a_revoked_link_is_a_clear_410_page(client, user, conversation):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    response = client.delete(_share_url(conversation))
    assert response.json() == {"revoked": 1}
    page = Client().get(url)
    assert page.status_code == 410
    assert "This link was revoked" in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get(_share_url(conversation)).json() == {"shared": False}
    assert client.delete(_share_url(conversation)).json() == {"revoked": 0}


@pytest.mark.parametrize("token", ["nope", "A" * 43, "%3Cscript%3E", "x" * 500])
def test_an_unknown_link_is_a_clear_404_page(client, token):
    page = client.get(f"/share/{token}/")
    assert page.status_code == 404
    assert "Link not found" in page.content.decode()


def test_sharing_an_empty_conversation_is_a_clear_400(client, user):
    empty = factories.conversation(user)
    factories.message(empty, role="assistant", content="", status="failed")
    client.force_login(user)
    response = _share(client, empty)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "empty" in response.json()["message"]
    assert not Share.objects.exists()


def test_a_streaming_reply_is_left_out_of_the_snapshot(client, user, conversation):
    factories.message(conversation, content="Another?")
    factories.message(
        conversation, role="assistant", content="Half a rep", status="streaming"
    )
    client.force_login(user)
    _share(client, conversation)
    roles = [m["role"] for m in Share.objects.get().messages]
    assert roles == ["user", "assistant", "user"]


def test_someone_elses_conversation_is_answered_like_an_unknown_one(
    client, user, other_user, conversation
):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    client.force_login(other_user)
    unknown = reverse(
        "chat:conversation-share", args=["00000000-0000-4000-8000-000000000000"]
    )
    for method in ("get", "post", "delete"):
        call = getattr(client, method)
        theirs = call(_share_url(conversation), content_type="application/json")
        missing = call(unknown, content_type="application/json")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()
    assert Client().get(url).status_code == 200, "the owner's link still works"


def test_share_endpoints_need_login_and_csrf(user, conversation):
    assert Client().get(_share_url(conversation)).status_code == 401
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert _share(client, conversation).status_code == 403
    assert client.delete(_share_url(conversation)).status_code == 403
    assert not Share.objects.exists()


def test_continue_copies_the_shared_conversation_into_the_readers_account(
    client, user, other_user, conversation
):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    reader = Client()
    reader.force_login(other_user)
    page = reader.get(url).content.decode()
    assert "Continue this chat" in page
    response = reader.post(reverse("chat:share-continue", args=[_token(url)]))
    assert response.status_code == 302
    copy = Conversation.objects.get(user=other_user)
    assert response["Location"] == f"/?c={copy.pk}"
    assert copy.title == "Colours"
    rows = list(copy.messages.order_by("created"))
    assert [(m.role, m.model) for m in rows] == [
        ("user", ""),
        ("assistant", "gpt-4o-mini"),
    ]
    assert rows[1].parent_id == rows[0].pk and rows[0].parent_id is None
    assert copy.active_leaf_id == rows[1].pk
    assert rows[1].content == "**Red**, <script>alert(1)</script>"
    assert not ModelCall.objects.exists(), "a copy is billed to no one"
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_continue_needs_a_login_and_a_live_link(client, user, conversation):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    token = _token(url)
    anonymous = Client().post(reverse("chat:share-continue", args=[token]))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=%2Fshare%2F")
    client.delete(_share_url(conversation))
    gone = client.post(reverse("chat:share-continue", args=[token]))
    assert gone.status_code == 410
    assert Conversation.objects.count() == 1


def test_continue_needs_csrf(user, other_user, conversation):
    owner = Client()
    owner.force_login(user)
    url = _share(owner, conversation).json()["url"]
    reader = Client(enforce_csrf_checks=True)
    reader.force_login(other_user)
    response = reader.post(reverse("chat:share-continue", args=[_token(url)]))
    assert response.status_code == 403
    assert not Conversation.objects.filter(user=other_user).exists()


def test_deleting_the_conversation_takes_its_links_with_it(client, user, conversation):
    client.force_login(user)
    url = _share(client, conversation).json()["url"]
    client.delete(reverse("chat:conversation-detail", args=[conversation.pk]))
    assert Client().get(url).status_code == 404
