"""Pytest fixtures for the test servers; enabled from tests/conftest.py.

Add ``pytest_plugins = ["tests.servers.fixtures"]`` to the root conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers.fake_openai import FakeOpenAI
from tests.servers.llama import LlamaServer, LlamaUnavailable

__all__ = ["fake_openai", "llama_server"]


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
