import os
import uuid

import pytest
import redis
from asgiref.sync import SyncToAsync
from django.contrib.auth import get_user_model
from django.db import connections
from hypothesis import settings

from chat.llm import chat_models
from tests import factories
from tests.fakes import FakeStreamingChatModel

pytest_plugins = ["tests.servers.fixtures"]

# Servers the tests start as processes inherit this: a model-made title is one more
# request to the model server, which tests that count requests do not expect. The
# titling tests turn titles on where they test them.
os.environ.setdefault("CHAT_TITLES", "0")

# Under CI the property tests try the same examples on every run, so its verdict
# depends on the code alone; on a laptop they search afresh each time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Give back the connection that async code (sync_to_async outside a request)
    holds on asgiref's shared thread before the test database is dropped: a pooled
    connection stays open until it is returned."""
    yield
    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()


def need_service(reason: str) -> None:
    """Skip on a laptop without the service; fail under CI, where it must exist."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture
def live_redis(settings):
    """REDIS_URL's Redis under a key prefix of the test's own, removed afterwards."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        need_service(f"Redis is not reachable at {url}")
    settings.REDIS_URL = url
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex[:8]}"
    yield settings.REDIS_KEY_PREFIX
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def fake_model(monkeypatch):
    """Swap the one model seam for a token-by-token fake; returns it to configure."""
    model = FakeStreamingChatModel(calls=[])
    monkeypatch.setattr(chat_models, "get_chat_model", lambda **_: model)
    return model


@pytest.fixture
def user(db):
    return factories.user("alice", password="pw-alice-123!")


@pytest.fixture
def other_user(db):
    return factories.user("bob", password="pw-bob-123!")


@pytest.fixture(autouse=True)
def _own_limits(settings):
    """Each test its own limits namespace: user ids repeat across tests."""
    settings.CHAT_LIMITS_KEY_PREFIX = f"test:limits:{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test its own cache namespace: login throttles count per client address
    and account, and the suite's client address never changes."""
    default = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = {**settings.CACHES, "default": default}


@pytest.fixture
def via(settings):
    """Point the app's one model seam at an OpenAI-compatible base URL."""

    def point(base_url: str, model: str = "gpt-4o-mini", **extra) -> None:
        settings.LLM_BACKEND = "openai"
        settings.OPENAI_BASE_URL = base_url
        settings.OPENAI_API_KEY = "test-key"
        settings.LLM_MODEL = model
        for name, value in extra.items():
            setattr(settings, name, value)

    return point


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser(
        "ops", "ops@example.com", "ops-pw-0123456789!"
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    """Rolled-back or flushed tables send no signal: each test reloads the model
    catalogue at its first read."""
    from chat.catalogue import store

    store._loaded = store._Loaded()
    yield
    store._loaded = store._Loaded()
