"""System checks for the injection screens' settings."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from chat.guards.screening import BACKENDS


def check_screening_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    unknown = set(settings.CHAT_INJECTION_BACKENDS) - set(BACKENDS)
    if unknown:
        errors.append(
            checks.Error(
                f"CHAT_INJECTION_BACKENDS names {sorted(unknown)}; "
                f"known: {', '.join(BACKENDS)}.",
                id="chat.E030",
            )
        )
    if settings.CHAT_INJECTION_COMBINE not in ("any", "borderline"):
        errors.append(
            checks.Error(
                "CHAT_INJECTION_COMBINE must be 'any' or 'borderline'.", id="chat.E031"
            )
        )
    if settings.CHAT_INJECTION_ON_FAILURE not in ("open", "closed"):
        errors.append(
            checks.Error(
                "CHAT_INJECTION_ON_FAILURE must be 'open' or 'closed'.", id="chat.E032"
            )
        )
    if (
        "classifier" in settings.CHAT_INJECTION_BACKENDS
        and not settings.CHAT_INJECTION_CLASSIFIER_PATH
    ):
        errors.append(
            checks.Error(
                "CHAT_INJECTION_BACKENDS has classifier but "
                "CHAT_INJECTION_CLASSIFIER_PATH is not set.",
                id="chat.E033",
            )
        )
    if (
        "judge" in settings.CHAT_INJECTION_BACKENDS
        and not settings.CHAT_INJECTION_JUDGE_MODEL
    ):
        errors.append(
            checks.Error(
                "CHAT_INJECTION_BACKENDS has judge but CHAT_INJECTION_JUDGE_MODEL "
                "is not set.",
                id="chat.E034",
            )
        )
    return errors
