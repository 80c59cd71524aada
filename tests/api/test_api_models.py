"""GET /v1/models: the models the key's user may use, in OpenAI's list shape."""

import pytest

from tests.api.auth import bearer

pytestmark = pytest.mark.django_db


def test_models_lists_the_configured_model_and_its_fallbacks(
    client, user, make_key, settings
):
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    settings.LLM_FALLBACKS = ["gpt-4.1-nano", "smollm2@http://127.0.0.1:9/v1"]
    response = client.get("/v1/models", headers=bearer(make_key(user)))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["gpt-4o-mini", "gpt-4.1-nano", "smollm2"]
    assert all(m["object"] == "model" and "owned_by" in m for m in body["data"])


def test_the_demo_backend_lists_only_the_demo(client, user, make_key, settings):
    settings.LLM_BACKEND = "demo"
    settings.LLM_FALLBACKS = ["gpt-4.1-nano"]
    response = client.get("/v1/models", headers=bearer(make_key(user)))
    assert [m["id"] for m in response.json()["data"]] == ["demo"]


def test_one_model_or_404(client, user, make_key, settings):
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    key = make_key(user)
    assert client.get("/v1/models/gpt-4o-mini", headers=bearer(key)).json() == {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": 0,
        "owned_by": "djchat",
    }
    response = client.get("/v1/models/gpt-9", headers=bearer(key))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert client.get("/v1/models/gpt-4o-mini").status_code == 401
