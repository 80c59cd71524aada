"""Loaded before Django: the test run's own secret key (settings refuse a missing
one when DEBUG is off, as in production)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
