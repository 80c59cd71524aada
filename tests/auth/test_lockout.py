"""Failed logins: locked per account and throttled per client address, in the
cache every process shares (Redis in production)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Lockout
from tests.auth.conftest import PASSWORD, form_errors, log_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
LOCKED = "This account is locked after too many failed log-ins."
ADDRESS = "Too many failed log-ins from your network."


@pytest.fixture
def rates(settings):
    def set_rates(*, per_address=100, per_account=10, window=60):
        settings.ACCOUNT_RATE_LIMITS = {
            "login_failed": f"{per_address}/{window}s/ip,{per_account}/{window}s/key"
        }

    set_rates()
    return set_rates


def fail(client, login, times, **extra):
    for _ in range(times):
        response = log_in(client, login, "wrong password", **extra)
        assert "not correct" in form_errors(response)


def test_ten_wrong_passwords_lock_the_account(client, carol, rates):
    fail(client, "carol", 10)
    right = log_in(client, "carol", PASSWORD)
    assert right.status_code == 200 and LOCKED in form_errors(right)
    assert client.get(reverse("chat:index")).status_code == 302
    wrong = log_in(client, "carol", "still wrong")
    # The lock says nothing about the password: right and wrong read the same.
    assert form_errors(wrong) == form_errors(right)
    assert Lockout.objects.get(user=carol).refused == 2


def test_every_name_of_the_account_counts_alike(client, carol, rates):
    fail(client, "carol", 5)
    fail(client, "CAROL@example.com", 5)
    assert LOCKED in form_errors(log_in(client, "carol@example.com", PASSWORD))


def test_the_lock_expires(client, carol, rates):
    rates(per_account=3, window=3)
    fail(client, "carol", 3)
    assert LOCKED in form_errors(log_in(client, "carol", PASSWORD))
    time.sleep(3.1)
    assert log_in(client, "carol", PASSWORD).status_code == 302


def test_one_address_is_throttled_across_accounts(client, rates):
    rates(per_address=4)
    for name in ("ann", "ben", "cid", "dan"):
        fail(client, name, 1)
    response = log_in(client, "eve", "wrong password")
    assert ADDRESS in form_errors(response) and LOCKED not in form_errors(response)


def test_forged_forwarded_for_is_ignored_without_a_trusted_proxy(client, rates):
    rates(per_address=3)
    for n in range(3):
        fail(client, f"user{n}", 1, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = log_in(client, "user9", "x", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert ADDRESS in form_errors(response)


def test_trusted_proxy_header_names_the_client(client, rates, settings):
    """Behind one trusted proxy (Heroku's router), the address it appended counts:
    other clients behind the same router are not throttled with the attacker."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    rates(per_address=3)
    fail(client, "user1", 3, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    throttled = log_in(client, "user2", "x", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert ADDRESS in form_errors(throttled)
    other = log_in(client, "user2", "x", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert "not correct" in form_errors(other)


def test_staff_see_and_clear_a_lockout_in_the_admin(client, carol, rates):
    from django.contrib.auth import get_user_model

    fail(client, "carol", 10)
    lockout = Lockout.objects.get(user=carol)
    assert lockout.active and lockout.address == "127.0.0.1"
    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "x")
    admin = type(client)()
    admin.force_login(staff)
    page = admin.get(reverse("admin:accounts_lockout_changelist"))
    assert f"user:{carol.pk}" in page.content.decode()
    admin.post(
        reverse("admin:accounts_lockout_changelist"),
        {"action": "clear", "_selected_action": [lockout.pk]},
    )
    assert not Lockout.objects.exists()
    assert log_in(client, "carol", PASSWORD).status_code == 302


def _log_in_elsewhere(prefix: str, times_wrong: int) -> str:
    """Another Django process on the same database and Redis fails `times_wrong`
    logins, then tries the right password; its status and page."""
    code = (
        "from django.test import Client\n"
        "c = Client()\n"
        f"for _ in range({times_wrong}):\n"
        "    c.post('/accounts/login/', {'login': 'carol', 'password': 'bad'})\n"
        f"r = c.post('/accounts/login/', {{'login': 'carol', "
        f"'password': '{PASSWORD}'}})\n"
        "print('RESULT', r.status_code, r.content.decode())\n"
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_KEY_PREFIX": prefix,
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "1",  # plain static files: no collectstatic manifest here
        # The same rates as the `rates` fixture's: they are part of the cache key.
        "CHAT_LOGIN_MAX_FAILURES": "10",
        "CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS": "100",
        "CHAT_LOGIN_LOCKOUT_SECONDS": "60",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split("RESULT ", 1)[1]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_count(client, carol, rates, live_redis, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the second process needs the shared PostgreSQL test database")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": live_redis,
        }
    }
    fail(client, "carol", 5)
    # Five more elsewhere make ten: the other process is refused the right password.
    status, page = _log_in_elsewhere(live_redis, 5).split(" ", 1)
    assert status == "200" and LOCKED in page
    assert LOCKED in form_errors(log_in(client, "carol", PASSWORD))
