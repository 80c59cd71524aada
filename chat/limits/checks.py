"""System check for the limits' settings; chat/checks.py registers it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import checks

from chat.rate_rules import parse_rate_rules

_WHOLE_OR_NONE = (
    "CHAT_BUDGET_TOKENS_PER_DAY",
    "CHAT_BUDGET_TOKENS_PER_MONTH",
    "CHAT_UPSTREAM_MAX_CONCURRENT",
    "CHAT_UPSTREAM_RPM",
    "CHAT_UPSTREAM_TPM",
    "CHAT_SITE_BUDGET_TOKENS_PER_DAY",
    "CHAT_SITE_BUDGET_TOKENS_PER_MONTH",
)
_MONEY_OR_NONE = (
    "CHAT_BUDGET_COST_PER_DAY",
    "CHAT_BUDGET_COST_PER_MONTH",
    "CHAT_SITE_BUDGET_COST_PER_DAY",
    "CHAT_SITE_BUDGET_COST_PER_MONTH",
)
_POSITIVE = (
    "CHAT_LIMITS_LEASE_SECONDS",
    "CHAT_UPSTREAM_MAX_WAIT_SECONDS",
    "CHAT_UPSTREAM_POLL_SECONDS",
)


def check_limits_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []

    def error(message: str, number: int) -> None:
        errors.append(checks.Error(message, id=f"chat.limits.E{number:03d}"))

    try:
        parse_rate_rules(settings.CHAT_RATE_LIMITS)
    except ValueError as exc:
        error(f"CHAT_RATE_LIMITS: {exc}", 1)
    if settings.CHAT_LIMITS_ON_REDIS_ERROR not in ("closed", "local"):
        error("CHAT_LIMITS_ON_REDIS_ERROR must be 'closed' or 'local'.", 2)
    for name in _WHOLE_OR_NONE:
        value = getattr(settings, name)
        if value not in (None, "") and not str(value).isdigit():
            error(f"{name} must be a whole number of at least 0, or unset.", 3)
    for name in _MONEY_OR_NONE:
        value = getattr(settings, name)
        try:
            if value not in (None, "") and Decimal(str(value)) < 0:
                raise InvalidOperation
        except InvalidOperation:
            error(f"{name} must be an amount of at least 0, or unset.", 4)
    for name in _POSITIVE:
        try:
            if float(getattr(settings, name)) <= 0:
                raise ValueError
        except (TypeError, ValueError):
            error(f"{name} must be a number of seconds above 0.", 5)
    reply_cap = settings.LLM_MAX_TOKENS
    for name in ("CHAT_BUDGET_TOKENS_PER_DAY", "CHAT_BUDGET_TOKENS_PER_MONTH"):
        value = getattr(settings, name)
        if str(value).isdigit() and int(value) < reply_cap:
            errors.append(
                checks.Warning(
                    f"{name} ({value}) is below LLM_MAX_TOKENS ({reply_cap}): "
                    "every turn holds the reply cap, so none would be admitted.",
                    id="chat.limits.W001",
                )
            )
    return errors
