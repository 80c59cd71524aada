"""System checks for the account settings."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from accounts.signup import MODES


@checks.register("accounts")
def check_account_settings(app_configs, **kwargs):
    errors = []
    if settings.CHAT_SIGNUP not in MODES:
        errors.append(
            checks.Error(
                f"CHAT_SIGNUP must be one of {', '.join(MODES)}, "
                f"not {settings.CHAT_SIGNUP!r}.",
                id="accounts.E001",
            )
        )
    for provider in settings.CHAT_OIDC_PROVIDERS:
        missing = {"id", "server_url", "client_id"} - set(provider)
        if missing:
            errors.append(
                checks.Error(
                    f"A CHAT_OIDC_PROVIDERS entry lacks {', '.join(sorted(missing))}.",
                    id="accounts.E002",
                )
            )
    if settings.CHAT_SSO_ONLY and not settings.CHAT_OIDC_PROVIDERS:
        errors.append(
            checks.Error(
                "CHAT_SSO_ONLY is on but CHAT_OIDC_PROVIDERS names no provider: "
                "nobody could log in.",
                id="accounts.E003",
            )
        )
    if (
        not settings.DEBUG
        and settings.CHAT_SIGNUP != "closed"
        and urlsplit(settings.EMAIL_URL).hostname in (None, "localhost", "127.0.0.1")
    ):
        errors.append(
            checks.Warning(
                "Sign-up is open or by invitation but EMAIL_URL names no mail "
                "server: nobody can verify an address or reset a password.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@host:587.",
                id="accounts.W001",
            )
        )
    return errors
