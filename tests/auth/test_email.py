"""Email through one EMAIL_URL, and password reset through allauth."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from chatproject.settings import _mailer
from tests.auth.conftest import log_in

pytestmark = pytest.mark.django_db


def test_email_url_becomes_the_default_mailer():
    smtp = _mailer("smtp+tls://bot%40example.com:s3cret@smtp.example.com:587")
    assert smtp["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert smtp["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 587,
        "username": "bot@example.com",
        "password": "s3cret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }
    console = _mailer("consolemail://")
    assert console == {
        "BACKEND": "django.core.mail.backends.console.EmailBackend",
        "OPTIONS": {},
    }


def test_password_reset_by_email(client, carol):
    response = client.post(
        reverse("account_reset_password"), {"email": "carol@example.com"}
    )
    assert response.status_code == 302
    (sent,) = mail.outbox
    assert sent.to == ["carol@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", sent.body)
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new = "a-brand-new-pass-phrase-7"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": new, "password2": new},
    )
    assert done.status_code == 302
    assert log_in(client, "carol", new).status_code == 302


def test_reset_link_is_single_use(client, carol):
    client.post(reverse("account_reset_password"), {"email": "carol@example.com"})
    link = re.search(r"(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    page = client.get(link.group(1), follow=True)
    url = page.redirect_chain[-1][0]
    new = "a-brand-new-pass-phrase-7"
    client.post(url, {"password1": new, "password2": new})
    again = type(client)().get(link.group(1), follow=True)
    assert "token was invalid" in again.content.decode().lower() or (
        "bad token" in again.content.decode().lower()
    )


def test_a_mail_server_that_is_down_costs_the_email_not_the_page(
    client, carol, settings, caplog
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    response = client.post(
        reverse("account_reset_password"), {"email": "carol@example.com"}
    )
    assert response.status_code == 302
    (record,) = [r for r in caplog.records if r.getMessage() == "email not sent"]
    assert "carol@example.com" not in str(record.__dict__)
    assert "/accounts/password/reset/key/" not in str(record.__dict__)
