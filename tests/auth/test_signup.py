"""Sign-up modes (closed, invite, open), email verification before the first chat,
and forms that never tell whether an account or address exists."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Enrolment, Invitation
from tests.auth.conftest import PASSWORD, form_errors, log_in
from tests.ws import connect, read_reply, send_frame

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-pass-phrase-42"


def sign_up(client, email, password=NEW_PASSWORD):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password, "password2": password},
    )


@pytest.fixture
def open_signup(settings):
    settings.CHAT_SIGNUP = "open"


def test_closed_is_the_default_without_debug(client, settings):
    assert settings.CHAT_SIGNUP == "closed"
    page = client.get(reverse("login")).content.decode()
    assert "Create an account" not in page
    refused = client.get(reverse("signup"))
    assert "Sign-up is closed" in refused.content.decode()
    sign_up(client, "mallory@example.com")
    assert not get_user_model().objects.exists()


def test_open_sign_up_sends_a_link_and_does_not_log_in(client, open_signup):
    assert "Create an account" in client.get(reverse("login")).content.decode()
    response = sign_up(client, "dora@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = get_user_model().objects.get(email="dora@example.com")
    assert user.enrolment.method == Enrolment.Method.OPEN
    assert client.get(reverse("chat:index")).status_code == 302
    assert len(mail.outbox) == 1 and "confirm-email" in mail.outbox[0].body


def _page(html: str, email: str) -> str:
    """The page without what differs per request anyway (tokens, nonces)."""
    html = re.sub(r'(content|value|nonce)="[A-Za-z0-9+/=_-]{20,}"', "", html)
    return html.replace(email, "EMAIL")


def test_sign_up_with_a_taken_email_answers_the_same(client, carol, open_signup):
    """Identical status, redirect and page for a new and a taken address; only the
    mailbox learns the difference (an "account already exists" email)."""
    new = sign_up(client, "nobody@example.com")
    new_page = client.get(new["Location"]).content.decode()
    other = type(client)()
    taken = sign_up(other, "carol@example.com")
    taken_page = other.get(taken["Location"]).content.decode()
    assert (new.status_code, new["Location"]) == (taken.status_code, taken["Location"])
    assert _page(new_page, "nobody@example.com") == _page(
        taken_page, "carol@example.com"
    )
    assert get_user_model().objects.filter(email="carol@example.com").count() == 1
    assert "already" in mail.outbox[-1].body.lower()


def test_wrong_password_reads_the_same_for_known_and_unknown_names(client, carol):
    known = form_errors(log_in(client, "carol", "wrong"))
    unknown = form_errors(log_in(client, "nobody-here", "wrong"))
    assert known == unknown.replace("nobody-here", "carol")
    known = form_errors(log_in(client, "carol@example.com", "wrong"))
    unknown = form_errors(log_in(client, "nobody@example.com", "wrong"))
    assert known == unknown


def test_password_reset_reads_the_same_for_known_and_unknown_emails(client, carol):
    url = reverse("account_reset_password")
    known = client.post(url, {"email": "carol@example.com"})
    unknown = client.post(url, {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )


def test_email_domains_allow_list(client, open_signup, settings):
    settings.CHAT_SIGNUP_EMAIL_DOMAINS = ["example.org"]
    refused = sign_up(client, "eve@elsewhere.net")
    assert refused.status_code == 200
    assert "limited to other email domains" in str(refused.context["form"].errors)
    assert sign_up(client, "fay@example.org").status_code == 302


def test_sign_up_is_throttled_per_client_address(client, open_signup, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/1h/ip"}
    assert sign_up(client, "a1@example.com").status_code == 302
    assert sign_up(type(client)(), "a2@example.com").status_code == 302
    assert sign_up(type(client)(), "a3@example.com").status_code == 429
    assert get_user_model().objects.count() == 2


# --- invitations --------------------------------------------------------------


@pytest.fixture
def invite_mode(settings):
    settings.CHAT_SIGNUP = "invite"


@pytest.fixture
def staff_client(client, db):
    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "x")
    admin = type(client)()
    admin.force_login(staff)
    return admin


def make_invitation(staff_client, *, max_uses=1, expires=None) -> str:
    """Staff make an invitation in the admin; the link is shown once."""
    expires = expires or timezone.now() + dt.timedelta(days=1)
    response = staff_client.post(
        reverse("admin:accounts_invitation_add"),
        {
            "note": "for a friend",
            "expires_0": expires.strftime("%Y-%m-%d"),
            "expires_1": expires.strftime("%H:%M:%S"),
            "max_uses": max_uses,
        },
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    link = re.search(r"http://testserver(/accounts/invite/[^<\s]+/)", " ".join(shown))
    assert link, shown
    return link.group(1)


def test_invitation_link_opens_sign_up_until_used_up(client, invite_mode, staff_client):
    link = make_invitation(staff_client, max_uses=2)
    assert "Create an account" not in client.get(reverse("login")).content.decode()
    assert client.get(link)["Location"] == reverse("account_signup")
    assert sign_up(client, "gus@example.com").status_code == 302
    second = type(client)()
    second.get(link)
    assert sign_up(second, "hal@example.com").status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.uses == 2
    assert {e.method for e in Enrolment.objects.all()} == {"invite"}
    spent = type(client)().get(link)
    assert spent.status_code == 410 and b"used up" in spent.content


def test_invitation_stored_only_hashed(invite_mode, staff_client):
    link = make_invitation(staff_client)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(list(Invitation.objects.values()))


def test_expired_and_unknown_invitations_are_refused(client, invite_mode, staff_client):
    link = make_invitation(
        staff_client, expires=timezone.now() + dt.timedelta(seconds=1)
    )
    Invitation.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(link).status_code == 410
    assert client.get("/accounts/invite/not-a-token/").status_code == 404
    sign_up(client, "ivy@example.com")
    assert not get_user_model().objects.filter(email="ivy@example.com").exists()


def test_an_invitation_spent_meanwhile_is_not_used_twice(
    client, invite_mode, staff_client
):
    link = make_invitation(staff_client, max_uses=1)
    first, second = type(client)(), type(client)()
    first.get(link)
    second.get(link)
    assert sign_up(first, "jo@example.com").status_code == 302
    assert "Sign-up is closed" in sign_up(second, "kim@example.com").content.decode()
    assert not get_user_model().objects.filter(email="kim@example.com").exists()


# --- verified before the first chat -------------------------------------------


@sync_to_async
def open_sign_up_user():
    user = get_user_model().objects.create_user(
        "lee", email="lee@example.com", password=PASSWORD
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True)
    Enrolment.objects.create(user=user, method="open")
    return user


@pytest.mark.django_db(transaction=True)
async def test_chat_waits_for_a_verified_email(fake_model):
    user = await open_sign_up_user()
    comm = await connect(user)
    try:
        frame = send_frame("Hello?")
        await comm.send_json_to(frame)
        refused = await comm.receive_json_from()
        assert refused["type"] == "error" and refused["code"] == "email_unverified"
        assert fake_model.calls == []

        await EmailAddress.objects.filter(user=user).aupdate(verified=True)
        await comm.send_json_to(send_frame("Hello again?"))
        assert (await comm.receive_json_from())["type"] == "start"
        assert (await read_reply(comm))[-1]["status"] == "complete"
    finally:
        await comm.disconnect()


def test_following_the_emailed_link_verifies(client, open_signup):
    sign_up(client, "max@example.com")
    link = re.search(
        r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body
    )
    assert client.post(link.group(1)).status_code == 302
    assert EmailAddress.objects.get(email="max@example.com").verified
    assert log_in(client, "max@example.com", NEW_PASSWORD).status_code == 302
