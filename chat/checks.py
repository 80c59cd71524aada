"""System checks: misconfiguration is reported clearly at start-up."""

from django.conf import settings
from django.core import checks

from chat.cache.checks import check_cache_settings
from chat.guards.checks import check_screening_settings
from chat.limits.checks import check_limits_settings
from chat.llm.registry import UnknownModel, check_models, get_spec
from chat.observability.checks import check_observability
from chat.tools.checks import check_tools_settings

checks.register(check_models, "chat")
checks.register(check_cache_settings, "chat")
checks.register(check_observability, "chat")
checks.register(check_limits_settings, "chat")
checks.register(check_tools_settings, "chat")
checks.register(check_screening_settings, "chat")


@checks.register("chat")
def check_chat_settings(app_configs, **kwargs):
    errors = []
    if settings.LLM_BACKEND not in ("openai", "demo"):
        errors.append(
            checks.Error(
                "LLM_BACKEND must be 'openai' or 'demo', "
                f"not {settings.LLM_BACKEND!r}.",
                id="chat.E001",
            )
        )
    if settings.CHAT_INJECTION_POLICY not in ("block", "flag", "off"):
        errors.append(
            checks.Error(
                "CHAT_INJECTION_POLICY must be 'block', 'flag' or 'off'.",
                id="chat.E002",
            )
        )
    if (
        settings.LLM_BACKEND == "openai"
        and not settings.OPENAI_API_KEY
        and not settings.OPENAI_BASE_URL
    ):
        errors.append(
            checks.Error(
                "LLM_BACKEND is 'openai' but neither OPENAI_API_KEY nor "
                "OPENAI_BASE_URL is set.",
                id="chat.E003",
            )
        )
    for entry in settings.LLM_FALLBACKS:
        name = entry.partition("@")[0]
        try:
            get_spec(name)
        except UnknownModel as exc:
            errors.append(
                checks.Error(f"LLM_FALLBACKS names {name!r}: {exc}", id="chat.E004")
            )
    return errors
