"""Fixtures for the API tests: keys made through the same service as the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.keys import key_create


@pytest.fixture
def make_key(db) -> Callable:
    """make_key(user, **options) -> a new key of that user (shown once)."""

    def make(user, name: str = "test key", **options) -> str:
        _, key = key_create(user=user, name=name, **options)
        return key

    return make


@pytest.fixture(scope="module")
def live(pg_template, tmp_path_factory):
    """The app served by daphne, with a key per user of tests/api/live.py."""
    from tests.api.live import live_app

    with live_app(pg_template, tmp_path_factory.mktemp("live")) as app:
        yield app
