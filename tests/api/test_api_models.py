"""GET /v1/models: the catalogue entries the key's user may use, in OpenAI's list
shape; a request names one by its key or by its provider model name."""

import pytest
from django.contrib.auth.models import Group

from tests.api.auth import bearer
from tests.catalogue.conftest import make_entry

pytestmark = pytest.mark.django_db


def test_models_lists_the_catalogue_entries_the_user_may_use(
    client, user, make_key, settings
):
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    staff = Group.objects.create(name="staff-models")
    make_entry("fast")
    make_entry("private", groups=[staff])
    make_entry("retired", enabled=False)
    response = client.get("/v1/models", headers=bearer(make_key(user)))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "fast" in ids
    assert "private" not in ids and "retired" not in ids
    assert all(m["object"] == "model" and "owned_by" in m for m in body["data"])
    user.groups.add(staff)
    response = client.get("/v1/models", headers=bearer(make_key(user, name="again")))
    assert "private" in [m["id"] for m in response.json()["data"]]


def test_one_model_by_key_or_provider_name_or_404(client, user, make_key, settings):
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    make_entry("fast")
    key = make_key(user)
    assert client.get("/v1/models/fast", headers=bearer(key)).json() == {
        "id": "fast",
        "object": "model",
        "created": 0,
        "owned_by": "djchat",
    }
    # The provider's own name of an entry the user may use is accepted too.
    assert client.get("/v1/models/fast-model", headers=bearer(key)).status_code == 200
    response = client.get("/v1/models/gpt-9", headers=bearer(key))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert client.get("/v1/models/fast").status_code == 401
