"""Logging in and out through allauth, with the page's old URL names."""

import pytest
from django.urls import reverse

from tests.auth.conftest import PASSWORD, form_errors, log_in

pytestmark = pytest.mark.django_db


def test_old_url_names_reach_allauth(client):
    assert reverse("login") == reverse("account_login") == "/accounts/login/"
    assert reverse("logout") == reverse("account_logout")
    assert reverse("signup") == reverse("account_signup")
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'class="auth-card"' in page.content.decode()


def test_login_by_username_or_email_then_chat(client, carol):
    response = log_in(client, "carol", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("chat:index")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("chat:index")).status_code == 302
    assert log_in(client, "Carol@Example.com", PASSWORD).status_code == 302


def test_wrong_password_is_an_error_on_the_form(client, carol):
    response = log_in(client, "carol", "nope")
    assert response.status_code == 200
    assert "not correct" in form_errors(response)


def test_admin_login_goes_through_the_site_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_local_user_can_log_in(client, settings, capsys):
    """`make run`'s account: made by ensure_local_user, logs in on the defaults."""
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("ensure_local_user")
    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert log_in(client, "local", password).status_code == 302
    assert client.get(reverse("chat:index")).status_code == 200
