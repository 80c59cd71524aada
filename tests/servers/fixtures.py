"""Pytest fixtures for the test servers; enabled from tests/conftest.py.

Add ``pytest_plugins = ["tests.servers.fixtures"]`` to the root conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers.fake_openai import FakeOpenAI
from tests.servers.llama import LlamaServer, LlamaUnavailable

__all__ = ["fake_openai", "llama_server", "pg_template"]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fresh scripted OpenAI server per test, so scripts and counts never leak."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """One SmolLM2 server per session; skip without it, but fail in CI."""
    server = LlamaServer()
    try:
        server.start()
    except LlamaUnavailable as exc:
        reason = f"local llama.cpp server unavailable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template():
    """A migrated PostgreSQL database with one user, cloned by each deployment of
    the app that a test starts (tests/resilience, tests/api); dropped at the end."""
    from tests.conftest import need_service
    from tests.resilience.stack import make_template
    from tests.servers import deployment

    if not deployment.postgres_available():
        need_service(f"PostgreSQL is not reachable at {deployment.PG_ADMIN_URL}")
    if not deployment.redis_available():
        need_service(f"Redis is not reachable at {deployment.REDIS_URL}")
    template = make_template()
    try:
        yield template
    finally:
        template.drop()
