"""Fixtures for the resilience tests: whole deployments of real daphne processes."""

from __future__ import annotations

import pytest

from tests.conftest import need_service
from tests.resilience import stack as deploy
from tests.resilience.services import PrivateRedis
from tests.servers import deployment


@pytest.fixture(scope="session")
def pg_template():
    """A migrated PostgreSQL database with one user, cloned by every deployment."""
    if not deployment.postgres_available():
        need_service(f"PostgreSQL is not reachable at {deployment.PG_ADMIN_URL}")
    if not deployment.redis_available():
        need_service(f"Redis is not reachable at {deployment.REDIS_URL}")
    template = deploy.make_template()
    try:
        yield template
    finally:
        template.drop()


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
