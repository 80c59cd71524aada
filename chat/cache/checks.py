"""System check for the response-cache settings (registered from chat/checks.py)."""

from django.conf import settings
from django.core import checks

from chat.cache.backends import BACKENDS, backend_name


def check_cache_settings(app_configs=None, **kwargs):
    errors = []
    name = backend_name()
    if name not in BACKENDS:
        errors.append(
            checks.Error(
                f"CHAT_CACHE_BACKEND must be one of {', '.join(BACKENDS)} "
                f"(or empty for the default), not {name!r}.",
                id="chat.E151",
            )
        )
    if name == "redis" and not settings.REDIS_URL:
        errors.append(
            checks.Error(
                "CHAT_CACHE_BACKEND is 'redis' but REDIS_URL is not set; the "
                "response cache is off until it is.",
                id="chat.E152",
            )
        )
    scope = settings.CHAT_CACHE_SCOPE
    if scope not in ("user", "shared"):
        errors.append(
            checks.Error(
                f"CHAT_CACHE_SCOPE must be 'user' or 'shared', not {scope!r}.",
                id="chat.E153",
            )
        )
    for setting in ("CHAT_CACHE_TTL", "CHAT_CACHE_MAX_ENTRIES", "CHAT_CACHE_TIMEOUT"):
        value = getattr(settings, setting)
        if not isinstance(value, int | float) or value < 0:
            errors.append(
                checks.Error(f"{setting} must be a number >= 0.", id="chat.E154")
            )
    return errors
