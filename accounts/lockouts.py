"""Failed-login lockouts on top of allauth's `login_failed` rate limit.

allauth counts failures in Django's cache (Redis when REDIS_URL is set, so every
process shares them) per client address and per key, and refuses further attempts
before checking the password. Here the key is the account itself, whatever name or
email was typed, and a lock is also written to `Lockout` so staff can see and clear
it in the admin.
"""

from __future__ import annotations

import datetime as dt
import time

from allauth.account.utils import filter_users_by_email
from allauth.core.internal import ratelimit as rl
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Lockout

APP = "allauth.account"
ACTION = "login_failed"


def account_key(credentials: dict) -> str:
    """One key per account however it is named (username or any of its emails),
    so alternating them buys no extra attempts; unknown names count by themselves."""
    user = find_user(credentials)
    if user is not None:
        return f"user:{user.pk}"
    login = credentials.get("email") or credentials.get("username") or ""
    return f"login:{login.strip().lower()}"


def find_user(credentials: dict):
    if email := credentials.get("email"):
        users = filter_users_by_email(email)
        if users:
            return users[0]
    if username := credentials.get("username"):
        return (
            get_user_model()
            ._default_manager.filter(username__iexact=username.strip())
            .first()
        )
    return None


def account_rate() -> rl.Rate | None:
    """The per-account rate of ACCOUNT_RATE_LIMITS['login_failed'], read at use."""
    for rate in rl.get_rates(app=APP, action=ACTION):
        if rate.per == "key":
            return rate
    return None


def _cache_key(key: str, rate: rl.Rate) -> str:
    # Per-key rates never look at the request.
    return rl.get_cache_key(None, app=APP, action=ACTION, rate=rate, key=key)


def locked_until(key: str) -> dt.datetime | None:
    """When the account's lock lifts, or None if it is not locked."""
    rate = account_rate()
    if rate is None:
        return None
    now = time.time()
    recent = sorted(
        (t for t in cache.get(_cache_key(key, rate), []) if t > now - rate.duration),
        reverse=True,
    )
    if len(recent) < rate.amount:
        return None
    until = recent[rate.amount - 1] + rate.duration
    return dt.datetime.fromtimestamp(until, tz=dt.UTC)


def note_failure(request: HttpRequest, credentials: dict, address: str) -> None:
    """After a wrong password: record the lock if this failure completed one."""
    key = account_key(credentials)
    until = locked_until(key)
    if until is None:
        return
    user = find_user(credentials)
    Lockout.objects.update_or_create(
        login=key,
        defaults={
            "user": user,
            "address": address,
            "locked": timezone.now(),
            "until": until,
            "refused": 0,
        },
    )


def note_refusal(key: str) -> bool:
    """An attempt was refused by the throttle: True when the account is the one
    locked (rather than the client address)."""
    if locked_until(key) is None:
        return False
    Lockout.objects.filter(login=key).update(refused=F("refused") + 1)
    return True


def clear(lockout: Lockout) -> None:
    """Forget the account's failures at once (staff, in the admin)."""
    rate = account_rate()
    if rate is not None:
        cache.delete(_cache_key(lockout.login, rate))
    lockout.delete()
