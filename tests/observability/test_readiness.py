"""/readyz: each dependency with its state and latency; 503 when a required one
fails. Redis and the channel layer are the real thing when a server is running."""

from __future__ import annotations

import socket

import pytest
import redis

from chat import shutdown
from tests.conftest import need_service

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = "redis://127.0.0.1:6379/0"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def real_redis(settings):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        need_service(f"Redis is not reachable at {REDIS_URL}")
    settings.REDIS_URL = REDIS_URL
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "test:readyz"},
        }
    }


async def test_embedded_defaults_are_ready(async_client, settings):
    settings.LLM_BACKEND = "demo"
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    response = await async_client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["state"] == "ok"
    assert checks["database"]["latency_ms"] >= 0
    assert checks["redis"] == {"state": "skipped", "required": False}
    assert checks["channel_layer"]["state"] == "ok"
    assert checks["channel_layer"]["detail"] == "InMemoryChannelLayer"
    assert checks["model"]["detail"] == "demo model"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.redis
async def test_redis_and_a_redis_channel_layer_round_trip(
    async_client, settings, real_redis
):
    settings.LLM_BACKEND = "demo"
    body = (await async_client.get("/readyz")).json()
    assert body["checks"]["redis"]["state"] == "ok"
    assert body["checks"]["redis"]["required"] is True
    assert body["checks"]["channel_layer"] == {
        "state": "ok",
        "required": True,
        "latency_ms": body["checks"]["channel_layer"]["latency_ms"],
        "detail": "RedisChannelLayer",
    }


async def test_unreachable_redis_fails_readiness(async_client, settings):
    settings.LLM_BACKEND = "demo"
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = await async_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["state"] == "fail"
    assert body["checks"]["redis"]["detail"] == "ConnectionError"
    assert "127.0.0.1" not in response.content.decode()


async def test_the_model_endpoint_is_asked_for_its_models(
    async_client, settings, fake_openai
):
    settings.LLM_BACKEND = "openai"
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_API_KEY = "sk-test-key-for-readyz"
    body = (await async_client.get("/readyz")).json()
    assert body["checks"]["model"]["state"] == "ok"
    assert body["status"] == "ok"


async def test_a_down_model_endpoint_degrades_unless_required(async_client, settings):
    settings.LLM_BACKEND = "openai"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/v1"
    settings.CHAT_READY_TIMEOUT = 1.0
    response = await async_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["model"]["state"] == "fail"
    settings.CHAT_READY_REQUIRES_MODEL = True
    response = await async_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model"]["required"] is True


async def test_a_draining_process_is_not_ready(async_client, settings, monkeypatch):
    """After SIGTERM (chat/shutdown.py) the process finishes its replies but should
    get no new traffic: /readyz says so even though every dependency answers."""
    settings.LLM_BACKEND = "demo"
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    monkeypatch.setattr(shutdown, "_draining", True)
    response = await async_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "draining"
    assert body["checks"]["database"]["state"] == "ok"
    assert (await async_client.get("/healthz")).status_code == 200  # still alive
