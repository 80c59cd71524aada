"""System checks for the observability settings: misconfiguration is reported at
start-up rather than discovered as missing traces or an open /metrics."""

from django.conf import settings
from django.core import checks


def check_observability(app_configs, **kwargs) -> list[checks.CheckMessage]:
    out = []
    if settings.LANGSMITH_TRACING and not settings.LANGSMITH_API_KEY:
        out.append(
            checks.Warning(
                "LANGSMITH_TRACING is on but LANGSMITH_API_KEY is empty: no trace "
                "is sent.",
                hint="Set LANGSMITH_API_KEY, or LANGSMITH_TRACING=false.",
                id="chat.W301",
            )
        )
    template = settings.CHAT_TRACE_URL
    if template and "{run_id}" not in template:
        out.append(
            checks.Warning(
                "CHAT_TRACE_URL has no {run_id}: every call would link to one page.",
                hint="Copy a run's address from LangSmith and put {run_id} where "
                "its id is.",
                id="chat.W302",
            )
        )
    token = settings.CHAT_METRICS_TOKEN
    if token and len(token) < 16:
        out.append(
            checks.Warning(
                "CHAT_METRICS_TOKEN is shorter than 16 characters.",
                hint="Use a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
                id="chat.W303",
            )
        )
    return out
