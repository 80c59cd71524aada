"""Fixtures for the resilience tests: whole deployments of real daphne processes."""

from __future__ import annotations

import pytest

from tests.conftest import need_service
from tests.resilience import stack as deploy
from tests.resilience.services import PrivateRedis


@pytest.fixture
def stack(pg_template, fake_openai, tmp_path):
    """A deployment of this test's own: database, Redis, daphne processes (started
    with `stack.daphne()`), killed and dropped afterwards."""
    with deploy.stack_for(pg_template, fake_openai.base_url, tmp_path) as one:
        yield one


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own, which it may pause or stop."""
    if not PrivateRedis.available():
        need_service("redis-server is not installed")
    server = PrivateRedis(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
