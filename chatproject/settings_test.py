"""Settings for the test suite: production settings (DEBUG off, as deployed) with
the few changes a test run needs, so no code has to detect that it is under test.

pytest reads this module (pyproject.toml); processes the tests start as deployed
servers name their own settings module.
"""

import os

# Production refuses the development key; the suite's key is its own.
os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 50)

from chatproject.settings import *  # noqa: E402, F403
from chatproject.settings import STORAGES  # noqa: E402

# The suite speaks plain HTTP to itself and serves static files without a
# collectstatic manifest.
SECURE_SSL_REDIRECT = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests that ask the same thing twice expect the model to answer twice; tests/cache
# turns the response cache on for itself.
CHAT_CACHE_BACKEND = "off"
# Users made by fixtures need no slow password hashing.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Titles are a model call after a conversation's first reply: tests that count
# the model's calls expect none; tests/test_titling.py turns them on for itself.
CHAT_TITLES = False
