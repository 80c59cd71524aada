"""What one user may do: the site defaults (settings) with their Quota laid over."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat.models import Quota
from chat.rate_rules import RateRule, parse_rate_rules

BUDGET_FIELDS = ("tokens_per_day", "tokens_per_month", "cost_per_day", "cost_per_month")


@dataclass(frozen=True)
class Policy:
    rate_rules: tuple[RateRule, ...] = ()
    max_concurrent: int = 1
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None
    cost_per_day: Decimal | None = None
    cost_per_month: Decimal | None = None

    def budget(self, period: str) -> tuple[int | None, Decimal | None]:
        """(tokens, cost) limits for a period; None where there is none."""
        return getattr(self, f"tokens_per_{period}"), getattr(
            self, f"cost_per_{period}"
        )


def default_policy() -> Policy:
    """The site defaults, from settings (read now, so override_settings applies)."""
    try:
        rules = parse_rate_rules(settings.CHAT_RATE_LIMITS)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CHAT_RATE_LIMITS: {exc}") from None
    return Policy(
        rate_rules=rules,
        max_concurrent=int(settings.CHAT_MAX_CONCURRENT_REPLIES),
        tokens_per_day=_whole(settings.CHAT_BUDGET_TOKENS_PER_DAY),
        tokens_per_month=_whole(settings.CHAT_BUDGET_TOKENS_PER_MONTH),
        cost_per_day=_money(settings.CHAT_BUDGET_COST_PER_DAY),
        cost_per_month=_money(settings.CHAT_BUDGET_COST_PER_MONTH),
    )


def resolve(quota) -> Policy:
    """The defaults with a Quota's filled-in fields laid over them."""
    policy = default_policy()
    if quota is None:
        return policy
    changes: dict = {}
    if quota.max_concurrent_replies is not None:
        changes["max_concurrent"] = quota.max_concurrent_replies
    if quota.unlimited:
        changes["rate_rules"] = ()
        changes.update(dict.fromkeys(BUDGET_FIELDS))
    else:
        if quota.rate_limits.strip():
            changes["rate_rules"] = parse_rate_rules(quota.rate_limits)
        for name in BUDGET_FIELDS:
            if getattr(quota, name) is not None:
                changes[name] = getattr(quota, name)
    return replace(policy, **changes)


# user id -> (expires at, Quota or None): one query per user and process every
# CHAT_QUOTA_CACHE_SECONDS, rather than one per message.
_quotas: dict[object, tuple[float, object]] = {}


async def policy_for(user) -> Policy:
    """A user's policy; their Quota row is cached briefly per process."""
    user_id = getattr(user, "pk", user)
    now = time.monotonic()
    cached = _quotas.get(user_id)
    if cached and cached[0] > now:
        return resolve(cached[1])
    quota = await Quota.objects.filter(user_id=user_id).afirst()
    ttl = float(settings.CHAT_QUOTA_CACHE_SECONDS)
    if ttl > 0:
        if len(_quotas) > 10_000:
            _quotas.clear()
        _quotas[user_id] = (now + ttl, quota)
    return resolve(quota)


def forget_quota(user_id: object | None = None) -> None:
    """Drop cached Quota rows (one user's, or all) in this process."""
    if user_id is None:
        _quotas.clear()
    else:
        _quotas.pop(user_id, None)


def _whole(value) -> int | None:
    return None if value in (None, "") else int(value)


def _money(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
