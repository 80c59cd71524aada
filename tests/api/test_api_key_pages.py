"""The API key settings page and the admin: people make, list and revoke their own
keys; staff see and revoke all of them."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from api.models import ApiKey
from tests.api.auth import bearer

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys/"


def _shown_key(response) -> str:
    match = re.search(
        r'id="new-api-key">(djc_[A-Za-z0-9_]+)<', response.content.decode()
    )
    assert match, "the new key should be on the page"
    return match.group(1)


def test_page_requires_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_shows_the_key_once_and_lists_only_its_prefix(client, user):
    client.force_login(user)
    response = client.post(PAGE, {"name": "laptop", "expires_in": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = _shown_key(response)
    row = ApiKey.objects.get(user=user)
    assert row.name == "laptop" and row.expires is not None
    listing = client.get(PAGE).content.decode()
    assert key not in listing and row.prefix in listing and "laptop" in listing
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200


def test_an_invalid_form_makes_no_key(client, user):
    client.force_login(user)
    response = client.post(PAGE, {"name": "", "expires_in": "12345"})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_revoke_own_key_and_not_someone_elses(client, user, other_user, make_key):
    mine = make_key(user)
    make_key(other_user)
    theirs = ApiKey.objects.get(user=other_user)
    client.force_login(user)
    assert client.post(reverse("api:revoke", args=[theirs.pk])).status_code == 404
    own = ApiKey.objects.get(user=user)
    response = client.post(reverse("api:revoke", args=[own.pk]))
    assert response.status_code == 302
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert own.revoked is not None and theirs.revoked is None
    assert client.get("/v1/models", headers=bearer(mine)).status_code == 401
    assert client.get(reverse("api:revoke", args=[own.pk])).status_code == 405


def test_page_posts_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(PAGE, {"name": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_the_api_needs_no_csrf_token(user, make_key):
    key = make_key(user)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/v1/chat/completions",
        "{}",
        content_type="application/json",
        headers=bearer(key),
    )
    assert response.status_code != 403


def test_staff_see_and_revoke_every_key_in_admin(client, user, other_user, make_key):
    key = make_key(user, name="alice-script")
    make_key(other_user, name="bob-script")
    staff = get_user_model().objects.create_superuser("root", password="pw-root-1!")
    client.force_login(staff)
    listing = client.get("/admin/api/apikey/").content.decode()
    assert "alice-script" in listing and "bob-script" in listing
    assert key not in listing
    assert client.get("/admin/api/apikey/add/").status_code == 403
    row = ApiKey.objects.get(user=user)
    response = client.post(
        "/admin/api/apikey/",
        {"action": "revoke_keys", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked is not None
    assert ApiKey.objects.get(user=other_user).revoked is None
    detail = client.get(f"/admin/api/apikey/{row.pk}/change/").content.decode()
    assert row.hashed not in detail


def test_staff_find_a_keys_calls_in_the_ledger(client, user, make_key):
    from chat.models import ModelCall

    make_key(user, name="batch")
    row = ApiKey.objects.get(user=user)
    ModelCall.objects.create(user=user, model="gpt-4o-mini", status="complete")
    ModelCall.objects.create(
        user=user, model="gpt-4o-mini", status="complete", api_key=row, run_id="r-key"
    )
    staff = get_user_model().objects.create_superuser("root", password="pw-root-1!")
    client.force_login(staff)
    listing = client.get("/admin/chat/modelcall/", {"q": row.prefix}).content.decode()
    assert "1 result" in listing
    call = ModelCall.objects.get(api_key=row)
    detail = client.get(f"/admin/chat/modelcall/{call.pk}/change/").content.decode()
    assert str(row) in detail
