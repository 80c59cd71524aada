"""API keys: made once, stored hashed, refused when malformed, revoked, expired, in
the URL, or their account blocked or deleted."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.keys import digest, key_create, key_revoke
from api.models import ApiKey
from tests.api.auth import bearer

pytestmark = pytest.mark.django_db

MODELS = "/v1/models"


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_key_is_shown_once_and_only_its_hash_stored(user):
    row, key = key_create(user=user, name="script")
    assert key.startswith("djc_") and key.startswith(row.prefix + "_")
    assert len(key) > 50
    row.refresh_from_db()
    assert row.hashed == digest(key) and key not in row.hashed
    stored = [str(getattr(row, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert not any(key in value for value in stored)


def test_a_valid_key_lists_models_and_records_its_use(client, user, make_key):
    key = make_key(user)
    response = client.get(MODELS, headers=bearer(key))
    assert response.status_code == 200
    assert response.json()["object"] == "list"
    assert ApiKey.objects.get(user=user).last_used is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer sk-not-ours",
        "Bearer djc_short_x",
        "Bearer djc_ABCDEFGH_" + "x" * 40,  # the right shape, no such key
    ],
)
def test_missing_or_malformed_keys_get_401_in_openai_shape(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(MODELS, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    error = _error(response)
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"


def test_a_wrong_secret_with_a_real_prefix_is_refused(client, user, make_key):
    key = make_key(user)
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    response = client.get(MODELS, headers=bearer(forged))
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_api_key"


def test_a_revoked_key_stops_at_once(client, user, make_key):
    key = make_key(user)
    assert client.get(MODELS, headers=bearer(key)).status_code == 200
    key_revoke(key=ApiKey.objects.get(user=user))
    response = client.get(MODELS, headers=bearer(key))
    assert response.status_code == 401
    assert "revoked" in _error(response)["message"]


def test_an_expired_key_is_refused(client, user, make_key):
    key = make_key(user, expires=timezone.now() - timedelta(seconds=1))
    response = client.get(MODELS, headers=bearer(key))
    assert response.status_code == 401
    assert "expired" in _error(response)["message"]
    live = make_key(user, expires=timezone.now() + timedelta(days=1))
    assert client.get(MODELS, headers=bearer(live)).status_code == 200


def test_a_blocked_users_key_stops_at_once(client, user, make_key):
    key = make_key(user)
    assert client.get(MODELS, headers=bearer(key)).status_code == 200
    user.is_active = False
    user.save()
    response = client.get(MODELS, headers=bearer(key))
    assert response.status_code == 403
    assert _error(response)["code"] == "account_blocked"


def test_a_deleted_users_key_stops_at_once(client, user, make_key):
    key = make_key(user)
    user.delete()
    assert client.get(MODELS, headers=bearer(key)).status_code == 401


@pytest.mark.parametrize("param", ["api_key", "key", "access_token", "anything"])
def test_a_key_in_the_query_string_is_refused_even_with_a_header(
    client, user, make_key, param
):
    key = make_key(user)
    response = client.get(f"{MODELS}?{param}={key}", headers=bearer(key))
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "credentials_in_query" and key not in error["message"]


def test_refusals_never_echo_the_key(client, user, make_key):
    key = make_key(user)
    key_revoke(key=ApiKey.objects.get(user=user))
    response = client.get(MODELS, headers=bearer(key))
    assert key not in response.content.decode()
    assert ApiKey.objects.get(user=user).prefix in key


def test_create_api_key_command_prints_a_working_key(client, user, capsys):
    call_command("create_api_key", "alice", "--name", "ci")
    key = capsys.readouterr().out.strip()
    assert ApiKey.objects.get(user=user).name == "ci"
    assert client.get(MODELS, headers=bearer(key)).status_code == 200


def test_create_api_key_command_refuses_unknown_and_blocked_users(user):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_key", "nobody")
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="blocked"):
        call_command("create_api_key", "alice")
