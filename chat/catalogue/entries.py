"""A catalogue entry as the rest of the code sees it: immutable, with its limits and
prices as a registry ModelSpec, and the environment entry resolved from settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings

from chat.llm.registry import ModelSpec, static_spec

# Where each provider's calls go when an entry names no base URL (for records and
# the breaker; never a secret).
OPENAI_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Entry:
    key: str
    name: str
    provider: str
    model: str
    spec: ModelSpec
    base_url: str = ""
    api_key_env: str = ""
    streaming_usage: bool = True
    vision: bool = False
    tools: bool = False
    # Tool names the admin enabled for it (chat.tools.registry).
    tool_names: tuple[str, ...] = ()
    json_mode: bool = False
    temperature: float = 0.7
    top_p: float = 1.0
    min_temperature: float = 0.0
    max_temperature: float = 2.0
    enabled: bool = True
    is_default: bool = False
    sort_order: int = 0
    # Group ids that may use it; empty: everyone.
    groups: frozenset[int] = field(default_factory=frozenset)
    # Keys of other entries, tried in order when this one fails before any text.
    fallbacks: tuple[str, ...] = ()
    from_environment: bool = False

    @property
    def demo(self) -> bool:
        return self.provider == "demo"

    @property
    def endpoint(self) -> str:
        """Where calls go: what records name and what the breaker tracks."""
        if self.demo:
            return "demo"
        if self.base_url:
            return self.base_url
        return OPENAI_URL if self.provider == "openai" else self.provider

    @property
    def reply_cap(self) -> int:
        """Tokens a reply may take unless the conversation asks for another cap."""
        return min(settings.LLM_MAX_TOKENS, self.spec.max_output_tokens)

    def api_key(self) -> str | None:
        """The key from the environment variable the entry names; None when that
        variable is unset. The one place the catalogue reads the environment: the
        variable's name is data the operator chose, so it cannot be a setting."""
        if self.from_environment:
            return settings.OPENAI_API_KEY or ""
        if not self.api_key_env:
            return ""
        return os.environ.get(self.api_key_env) or None

    def usable_by(self, group_ids: frozenset[int]) -> bool:
        return not self.groups or bool(self.groups & group_ids)


def entry_from_row(row, *, groups: frozenset[int], fallbacks: tuple[str, ...]) -> Entry:
    """An Entry from a CatalogueEntry row (the environment entry resolved now)."""
    common = {
        "key": row.key,
        "name": row.name,
        "streaming_usage": row.streaming_usage,
        "vision": row.vision,
        "tools": row.tools,
        "tool_names": tuple(row.tool_names or ()),
        "json_mode": row.json_mode,
        "temperature": row.temperature,
        "top_p": row.top_p,
        "min_temperature": row.min_temperature,
        "max_temperature": row.max_temperature,
        "enabled": row.enabled,
        "is_default": row.is_default,
        "sort_order": row.sort_order,
        "groups": groups,
    }
    if row.from_environment:
        return replace(environment_entry(), **common)
    model = row.model or row.key
    try:
        # Token counting knows a model's encoding; the catalogue does not ask.
        known = static_spec(model)
        encoding, per_message = known.encoding, known.tokens_per_message
    except ValueError:
        encoding, per_message = None, 3
    spec = ModelSpec(
        name=model,
        context_window=row.context_window,
        max_output_tokens=row.max_output_tokens,
        input_per_mtok=Decimal(row.input_per_mtok),
        cached_input_per_mtok=Decimal(row.cached_input_per_mtok),
        output_per_mtok=Decimal(row.output_per_mtok),
        encoding=encoding,
        tokens_per_message=per_message,
    )
    return Entry(
        provider=row.provider,
        model=model,
        spec=spec,
        base_url=row.base_url,
        api_key_env=row.api_key_env,
        fallbacks=fallbacks,
        **common,
    )


def environment_entry() -> Entry:
    """The model the settings describe (LLM_BACKEND, LLM_MODEL, OPENAI_BASE_URL,
    CHAT_MODELS, LLM_CONTEXT_WINDOW); the default when the catalogue has none."""
    demo = settings.LLM_BACKEND == "demo"
    model = "demo" if demo else settings.LLM_MODEL
    spec = static_spec(model)
    spec = replace(
        spec, context_window=min(spec.context_window, settings.LLM_CONTEXT_WINDOW)
    )
    return Entry(
        key="default",
        name="Demo model" if demo else model,
        provider="demo" if demo else "openai",
        model=model,
        spec=spec,
        base_url="" if demo else settings.OPENAI_BASE_URL,
        temperature=settings.LLM_TEMPERATURE,
        top_p=settings.LLM_TOP_P,
        is_default=True,
        from_environment=True,
    )
