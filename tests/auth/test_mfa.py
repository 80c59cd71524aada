"""A second factor: TOTP with recovery codes, optional for users, required for
staff when CHAT_MFA_REQUIRED_FOR_STAFF is on."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.auth.conftest import PASSWORD, log_in

pytestmark = pytest.mark.django_db


def code_now(secret: str) -> str:
    """What an authenticator app shows right now."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def activate_totp(client) -> str:
    """Set up TOTP on the page, as a user does with an authenticator app (after
    typing the password again, which allauth asks for first)."""
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(asked["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": code_now(secret)})
    assert response.status_code == 302, response.content.decode()[-800:]
    return secret


def test_totp_is_optional(client, carol):
    assert log_in(client, "carol", PASSWORD)["Location"] == "/"


def test_login_asks_for_the_code_once_totp_is_on(client, carol):
    log_in(client, "carol", PASSWORD)
    secret = activate_totp(client)
    assert Authenticator.objects.filter(user=carol, type="totp").exists()
    client.post(reverse("logout"))

    response = log_in(client, "carol", PASSWORD)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("chat:index")).status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    done = client.post(reverse("mfa_authenticate"), {"code": code_now(secret)})
    assert done.status_code == 302
    assert client.get(reverse("chat:index")).status_code == 200


def test_a_recovery_code_replaces_the_app_once(client, carol):
    log_in(client, "carol", PASSWORD)
    activate_totp(client)
    client.post(reverse("logout"))
    codes = RecoveryCodes(
        Authenticator.objects.get(user=carol, type="recovery_codes")
    ).get_unused_codes()
    assert len(codes) >= 5

    log_in(client, "carol", PASSWORD)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]})["Location"] == (
        "/"
    )
    client.post(reverse("logout"))
    log_in(client, "carol", PASSWORD)
    reused = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert reused.status_code == 200  # spent: asked again


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    return user


def test_staff_required_mode_sends_staff_to_set_up_totp(client, staff, settings):
    settings.CHAT_MFA_REQUIRED_FOR_STAFF = True
    log_in(client, "ops", PASSWORD)
    refused = client.get(reverse("admin:index"))
    assert refused.status_code == 302
    assert refused["Location"] == reverse("mfa_activate_totp")
    activate_totp(client)
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_required_mode_leaves_other_users_and_the_chat_alone(
    client, carol, staff, settings
):
    settings.CHAT_MFA_REQUIRED_FOR_STAFF = True
    log_in(client, "ops", PASSWORD)
    assert client.get(reverse("chat:index")).status_code == 200
    other = type(client)()
    log_in(other, "carol", PASSWORD)
    assert other.get(reverse("chat:index")).status_code == 200


def test_without_the_setting_staff_use_the_admin_with_a_password(client, staff):
    log_in(client, "ops", PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_page_and_every_settings_page_lead_to_the_second_factor(client, carol):
    """Users find two-factor authentication from the chat page, and move between
    the account's settings pages (2FA, password, email, API keys) from each."""
    client.force_login(carol)
    mfa = reverse("mfa_index")
    assert f'href="{mfa}"' in client.get(reverse("chat:index")).content.decode()
    for page in ("mfa_index", "account_email", "account_change_password", "api:keys"):
        html = client.get(reverse(page)).content.decode()
        for target in (
            "mfa_index",
            "account_email",
            "account_change_password",
            "api:keys",
        ):
            assert f'href="{reverse(target)}"' in html, (page, target)
