"""Fixtures for the limits: each behaviour runs on both backends (in-process and
real Redis), with its own key prefix, cleaned up afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
import redis

from chat import redis_client
from chat.limits import Policy, admit
from chat.limits.backends.memory import STORE
from tests.conftest import need_service

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
ENDPOINT = "https://provider.test/v1"


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def need_redis() -> None:
    if not redis_available():
        need_service(f"Redis is not reachable at {REDIS_URL}")


@dataclass(frozen=True)
class Limits:
    kind: str  # "memory" or "redis"
    prefix: str


@pytest.fixture(params=["memory", "redis"])
def limits(request, settings):
    """Limits on one backend with everything off unless a test turns it on."""
    if request.param == "redis":
        need_redis()
    prefix = f"test:limits:{uuid.uuid4().hex[:12]}"
    settings.REDIS_URL = REDIS_URL if request.param == "redis" else ""
    settings.CHAT_LIMITS_ENABLED = True
    settings.CHAT_LIMITS_KEY_PREFIX = prefix
    settings.CHAT_LIMITS_ON_REDIS_ERROR = "closed"
    settings.CHAT_LIMITS_LEASE_SECONDS = 60.0
    settings.CHAT_RATE_LIMITS = []
    settings.CHAT_MAX_CONCURRENT_REPLIES = 1
    settings.CHAT_QUOTA_CACHE_SECONDS = 0
    for name in (
        "TOKENS_PER_DAY",
        "TOKENS_PER_MONTH",
        "COST_PER_DAY",
        "COST_PER_MONTH",
    ):
        setattr(settings, f"CHAT_BUDGET_{name}", None)
    settings.CHAT_UPSTREAM_MAX_CONCURRENT = None
    settings.CHAT_UPSTREAM_RPM = None
    settings.CHAT_UPSTREAM_TPM = None
    settings.CHAT_UPSTREAM_QUEUE_MAX = 100
    settings.CHAT_UPSTREAM_MAX_WAIT_SECONDS = 5.0
    settings.CHAT_UPSTREAM_POLL_SECONDS = 0.02
    yield Limits(request.param, prefix)
    STORE.delete_prefix(prefix)
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
async def _close_redis_clients():
    """Redis connections belong to their loop: close this test's at its end."""
    yield
    await redis_client.close_clients()


@pytest.fixture
def ledger(transactional_db):
    """Database access for tests whose budgets are seeded from the ledger."""


def policy(**changes) -> Policy:
    """A policy with nothing limited except what the test names."""
    return Policy(**{"max_concurrent": 1000, **changes})


async def admit_one(user=1, *, input_tokens=10, reply_cap=90, cost="0", **kwargs):
    """admit() towards the test endpoint with small, round numbers."""
    return await admit(
        user=user,
        endpoint=kwargs.pop("endpoint", ENDPOINT),
        estimated_input_tokens=input_tokens,
        reply_cap_tokens=reply_cap,
        estimated_cost=Decimal(cost),
        **kwargs,
    )


async def eventually(predicate, within: float = 5.0) -> None:
    """Wait until predicate() is true, or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
