"""A blocked (inactive) account: told so only once its password was right, and
its open sessions end at once."""

import pytest
from django.urls import reverse

from accounts.access import is_blocked
from tests.auth.conftest import PASSWORD, form_errors, log_in

pytestmark = pytest.mark.django_db


def block(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_right_password_is_told_the_account_is_blocked(client, carol):
    block(carol)
    response = log_in(client, "carol", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_inactive")
    page = client.get(response["Location"]).content.decode()
    assert "blocked by an administrator" in page
    assert client.get(reverse("chat:index")).status_code == 302


def test_wrong_password_of_a_blocked_account_reads_like_any_other(client, carol):
    block(carol)
    blocked = form_errors(log_in(client, "carol", "wrong"))
    unknown = form_errors(log_in(client, "nobody", "wrong"))
    assert blocked == unknown
    assert "blocked" not in blocked


def test_an_open_session_ends_when_the_account_is_blocked(client, carol):
    log_in(client, "carol", PASSWORD)
    assert client.get(reverse("chat:index")).status_code == 200
    block(carol)
    assert client.get(reverse("chat:index")).status_code == 302
    assert client.get(reverse("chat:conversation-list")).status_code == 401


def test_is_blocked_reads_the_database_not_the_object(carol):
    stale = type(carol).objects.get(pk=carol.pk)
    assert not is_blocked(stale)
    block(carol)
    assert stale.is_active and is_blocked(stale)
    carol.delete()
    assert is_blocked(stale)
