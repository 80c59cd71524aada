"""LangSmith tracing: with LANGSMITH_TRACING and LANGSMITH_API_KEY set, each model
call is sent to LangSmith carrying the turn's tags and metadata (turn, user,
conversation and message ids), and the admin links a ModelCall to its trace.

The tracer is passed explicitly in the call's callbacks, built from settings, rather
than switched on by LangChain reading the environment: settings decide, and tests
can point it anywhere.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from langchain_core.callbacks import BaseCallbackHandler


def tracing_enabled() -> bool:
    """Tracing is on only with both the switch and a key."""
    return bool(settings.LANGSMITH_TRACING) and bool(settings.LANGSMITH_API_KEY)


def tracing_callbacks() -> list[BaseCallbackHandler]:
    """The tracer to add to a model call's callbacks: none when tracing is off."""
    if not tracing_enabled():
        return []
    from langchain_core.tracers.langchain import LangChainTracer

    return [
        LangChainTracer(
            client=langsmith_client(),
            project_name=settings.LANGSMITH_PROJECT or None,
        )
    ]


def langsmith_client():
    """One client per configuration: it batches runs on a background thread."""
    return _client(
        settings.LANGSMITH_ENDPOINT,
        settings.LANGSMITH_API_KEY,
        bool(settings.CHAT_TRACE_HIDE_CONTENT),
    )


@lru_cache(maxsize=4)
def _client(endpoint: str, api_key: str, hide_content: bool):
    from langsmith import Client

    return Client(
        api_url=endpoint or None,
        api_key=api_key,
        hide_inputs=hide_content,
        hide_outputs=hide_content,
    )


def flush() -> None:
    """Send the runs still queued (at shutdown, and in tests)."""
    if tracing_enabled():
        langsmith_client().flush()


def trace_url(run_id: str) -> str:
    """The LangSmith page of a call, from the CHAT_TRACE_URL template ("" if none)."""
    template = settings.CHAT_TRACE_URL
    if not template or not run_id:
        return ""
    return template.replace("{run_id}", run_id)
