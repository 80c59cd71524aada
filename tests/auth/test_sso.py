"""Single sign-on with OpenID Connect against a real provider process
(oidc-provider-mock, started here): the app's side through Django's test client,
the browser's side and the app's back channel over real HTTP."""

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Enrolment
from tests.auth.conftest import PASSWORD, form_errors, log_in
from tests.servers.deployment import free_port

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def provider():
    """The identity provider, in its own process; its base URL. It refuses an
    authorization request without a nonce."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--port",
            str(port),
            "--require-nonce",
            "true",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/.well-known/openid-configuration", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("oidc-provider-mock did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def sso(provider, settings):
    """The app configured as CHAT_OIDC_PROVIDERS would configure it."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "corp",
                    "name": "Corp SSO",
                    "client_id": "djchat",
                    "secret": "client-secret",
                    "settings": {"server_url": provider},
                }
            ],
        }
    }
    return provider


def person(provider: str, sub: str, **claims) -> None:
    """Who the provider says `sub` is."""
    answer = httpx.put(f"{provider}/users/{sub}", json=claims, timeout=5)
    assert answer.status_code == 204


def sign_in(client, provider: str, sub: str):
    """Start on the app, choose `sub` on the provider's page, return the app's
    answer to the callback."""
    start = client.post("/accounts/oidc/corp/login/")
    assert start.status_code == 302 and start["Location"].startswith(provider)
    chosen = httpx.post(start["Location"], data={"sub": sub}, timeout=5)
    assert chosen.status_code == 302, chosen.text[:500]
    back = urlsplit(chosen.headers["Location"])
    assert back.path == "/accounts/oidc/corp/login/callback/"
    return client.get(f"{back.path}?{back.query}")


def logged_in_as(client):
    return client.get(reverse("chat:index")).context["user"].get_username()


def test_new_user_signs_up_through_the_provider(client, sso, settings):
    settings.CHAT_SIGNUP = "open"
    person(sso, "dana-1", email="dana@corp.example", email_verified=True)
    response = sign_in(client, sso, "dana-1")
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(email="dana@corp.example")
    assert SocialAccount.objects.get(user=user).uid == "dana-1"
    assert user.enrolment.method == Enrolment.Method.SSO
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("chat:index")).status_code == 200


def test_closed_sign_up_lets_no_new_user_in(client, sso):
    person(sso, "erin-1", email="erin@corp.example", email_verified=True)
    response = sign_in(client, sso, "erin-1")
    assert "Sign-up is closed" in response.content.decode()
    assert not get_user_model().objects.filter(email="erin@corp.example").exists()


def test_links_an_account_by_a_verified_email(client, sso, carol):
    person(sso, "carol-1", email="carol@example.com", email_verified=True)
    assert sign_in(client, sso, "carol-1")["Location"] == "/"
    assert logged_in_as(client) == "carol"
    assert SocialAccount.objects.get(uid="carol-1").user == carol


def test_no_link_when_the_provider_did_not_verify_the_email(client, sso, carol):
    person(sso, "carol-2", email="carol@example.com", email_verified=False)
    sign_in(client, sso, "carol-2")
    assert client.get(reverse("chat:index")).status_code == 302
    assert not SocialAccount.objects.filter(user=carol).exists()


def test_no_link_to_an_address_the_account_never_confirmed(client, sso, carol):
    """Someone could have signed up with another person's address and waited
    for that person's first single sign-on."""
    EmailAddress.objects.filter(user=carol).update(verified=False)
    person(sso, "carol-3", email="carol@example.com", email_verified=True)
    sign_in(client, sso, "carol-3")
    assert client.get(reverse("chat:index")).status_code == 302
    assert not SocialAccount.objects.filter(user=carol).exists()


def refused(response) -> None:
    """The page's own answer to a callback that is not this login's."""
    assert response.status_code == 400
    assert "does not belong to this login" in response.content.decode()


def test_a_callback_with_a_wrong_state_is_refused(client, sso, carol):
    person(sso, "carol-4", email="carol@example.com", email_verified=True)
    start = client.post("/accounts/oidc/corp/login/")
    chosen = httpx.post(start["Location"], data={"sub": "carol-4"}, timeout=5)
    back = urlsplit(chosen.headers["Location"])
    query = parse_qs(back.query)
    forged = client.get(
        back.path, {"code": query["code"][0], "state": "not-the-state-we-sent"}
    )
    refused(forged)
    assert client.get(reverse("chat:index")).status_code == 302


def test_a_replayed_callback_is_refused(client, sso, carol):
    """A state is good for one callback: the second use of a link is refused."""
    person(sso, "carol-6", email="carol@example.com", email_verified=True)
    start = client.post("/accounts/oidc/corp/login/")
    chosen = httpx.post(start["Location"], data={"sub": "carol-6"}, timeout=5)
    back = urlsplit(chosen.headers["Location"])
    assert client.get(f"{back.path}?{back.query}")["Location"] == "/"
    client.post(reverse("logout"))
    refused(client.get(f"{back.path}?{back.query}"))
    assert client.get(reverse("chat:index")).status_code == 302


def test_an_id_token_with_a_wrong_nonce_is_refused(client, sso, carol):
    """Each login sends a fresh nonce; an ID token issued for another
    authorization request (here: one whose nonce was swapped on the way to the
    provider) does not log anyone in, though its state is right."""
    person(sso, "carol-7", email="carol@example.com", email_verified=True)
    start = client.post("/accounts/oidc/corp/login/")
    authorize = urlsplit(start["Location"])
    params = parse_qs(authorize.query)
    assert len(params["nonce"][0]) >= 32
    params["nonce"] = ["a-nonce-of-another-login"]
    swapped = authorize._replace(query=urlencode(params, doseq=True)).geturl()
    chosen = httpx.post(swapped, data={"sub": "carol-7"}, timeout=5)
    assert chosen.status_code == 302, chosen.text[:500]
    back = urlsplit(chosen.headers["Location"])
    assert parse_qs(back.query)["state"] == params["state"]
    refused(client.get(f"{back.path}?{back.query}"))
    assert client.get(reverse("chat:index")).status_code == 302
    assert not SocialAccount.objects.filter(user=carol).exists()


def test_sso_only_hides_passwords(client, sso, carol, settings):
    settings.CHAT_SSO_ONLY = True
    settings.CHAT_SIGNUP = "open"
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' not in page and "Corp SSO" in page
    assert "Create an account" not in page
    refused = log_in(client, "carol", PASSWORD)
    assert "single sign-on" in form_errors(refused)
    assert client.get(reverse("chat:index")).status_code == 302
    person(sso, "carol-5", email="carol@example.com", email_verified=True)
    assert sign_in(client, sso, "carol-5")["Location"] == "/"


def test_providers_come_from_the_environment():
    """CHAT_OIDC_PROVIDERS (JSON) becomes allauth's provider list."""
    entry = {
        "id": "kc",
        "name": "Keycloak",
        "server_url": "https://kc.example/realms/x",
        "client_id": "djchat",
        "secret": "s",
    }
    code = (
        "from django.conf import settings; import json; "
        "print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={
            "DJANGO_SETTINGS_MODULE": "chatproject.settings",
            "DEBUG": "1",
            "CHAT_OIDC_PROVIDERS": json.dumps([entry]),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-1500:]
    (app,) = json.loads(done.stdout.strip().splitlines()[-1])
    assert app == {
        "provider_id": "kc",
        "name": "Keycloak",
        "client_id": "djchat",
        "secret": "s",
        "settings": {"server_url": "https://kc.example/realms/x"},
    }
