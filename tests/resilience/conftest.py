"""Fixtures for the resilience tests: the SSE routes, and whole deployments of real
daphne processes."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import need_service
from tests.resilience import stack as deploy


@pytest.fixture
def sse_routes(settings):
    """The site's routes with the SSE endpoint, in-process."""
    settings.ROOT_URLCONF = "tests.resilience.urls"


@pytest.fixture(scope="session")
def pg_template():
    """A migrated PostgreSQL database with one user, cloned by every deployment."""
    if not deploy.postgres_available():
        need_service(f"PostgreSQL is not reachable at {deploy.PG_ADMIN_URL}")
    if not deploy.redis_available():
        need_service(f"Redis is not reachable at {deploy.REDIS_URL}")
    name = f"resil_tmpl_{uuid.uuid4().hex[:12]}"
    try:
        deploy.make_template(name)
        yield name
    finally:
        deploy.drop_database(name)


@pytest.fixture
def stack(pg_template, fake_openai, tmp_path):
    """A deployment of this test's own: database, Redis, daphne processes (started
    with `stack.daphne()`), killed and dropped afterwards."""
    with deploy.stack_for(pg_template, fake_openai.base_url, tmp_path) as one:
        yield one
