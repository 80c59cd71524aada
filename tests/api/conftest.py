"""Fixtures for the API tests: keys made through the same service as the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.keys import key_create


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """A fast password hasher: each user made with a password costs ~0.5 s otherwise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_key(db) -> Callable:
    """make_key(user, **options) -> a new key of that user (shown once)."""

    def make(user, name: str = "test key", **options) -> str:
        _, key = key_create(user=user, name=name, **options)
        return key

    return make
