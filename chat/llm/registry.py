"""What each model can take and what it costs: context window, reply cap, prices.

Defaults cover current OpenAI models, the local SmolLM2 and the demo model; operators
add or override models with a JSON file (CHAT_MODELS_FILE) and/or a JSON string
(CHAT_MODELS), for example::

    CHAT_MODELS='{"my-model": {"context_window": 32768, "max_output_tokens": 4096,
                  "input_per_mtok": "0.20", "output_per_mtok": "0.80"}}'

An entry for a known model changes only the fields it names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MILLION = Decimal(1_000_000)
# Costs are kept to 1e-8 USD (rounded half to even): one input token of the cheapest
# model listed costs 5e-8.
COST_QUANTUM = Decimal("0.00000001")


class UnknownModel(ValueError):
    """The model name is in neither the defaults nor the operator's overrides."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        example = json.dumps({name: {f: _EXAMPLE[f] for f in _REQUIRED}})
        super().__init__(
            f"Unknown model {name!r}. Known models: {', '.join(known)}. To add one, "
            f"set CHAT_MODELS to a JSON object such as {example}, or put that object "
            "in the file named by CHAT_MODELS_FILE (prices in USD per million tokens; "
            "optional: cached_input_per_mtok, encoding, tokens_per_message)."
        )


@dataclass(frozen=True)
class ModelSpec:
    """Limits and list prices of one model (prices in USD per million tokens)."""

    name: str
    context_window: int
    max_output_tokens: int
    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal
    output_per_mtok: Decimal
    # A tiktoken encoding name ("o200k_base", "cl100k_base"), or None when tiktoken
    # has no encoding for the model and token counts are estimated.
    encoding: str | None = None
    # Framing tokens around each message: 3 for OpenAI chat models, 4 for ChatML
    # (<|im_start|>, newline, <|im_end|>, newline); the role is counted apart.
    tokens_per_message: int = 3


def _spec(
    name: str,
    context: int,
    output: int,
    prices: tuple[str, str, str],
    encoding: str | None,
    tokens_per_message: int = 3,
) -> ModelSpec:
    inp, cached, out = (Decimal(p) for p in prices)
    return ModelSpec(
        name, context, output, inp, cached, out, encoding, tokens_per_message
    )


# Published list prices (input, cached input, output) as known when this was written.
# Prices change: operators must verify them against the provider's pricing page and
# override them through CHAT_MODELS or CHAT_MODELS_FILE.
DEFAULT_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _spec("gpt-4o", 128_000, 16_384, ("2.50", "1.25", "10.00"), "o200k_base"),
        _spec("gpt-4o-mini", 128_000, 16_384, ("0.15", "0.075", "0.60"), "o200k_base"),
        _spec("gpt-4.1", 1_047_576, 32_768, ("2.00", "0.50", "8.00"), "o200k_base"),
        _spec(
            "gpt-4.1-mini", 1_047_576, 32_768, ("0.40", "0.10", "1.60"), "o200k_base"
        ),
        _spec(
            "gpt-4.1-nano", 1_047_576, 32_768, ("0.10", "0.025", "0.40"), "o200k_base"
        ),
        _spec("o4-mini", 200_000, 100_000, ("1.10", "0.275", "4.40"), "o200k_base"),
        _spec("gpt-5", 400_000, 128_000, ("1.25", "0.125", "10.00"), "o200k_base"),
        _spec("gpt-5-mini", 400_000, 128_000, ("0.25", "0.025", "2.00"), "o200k_base"),
        _spec("gpt-5-nano", 400_000, 128_000, ("0.05", "0.005", "0.40"), "o200k_base"),
        # The local model: SmolLM2 supports 8192 tokens, but our llama.cpp server runs
        # it with a 2048-token context. Its tokenizer is not a tiktoken encoding.
        _spec("smollm2", 2_048, 1_024, ("0", "0", "0"), None, tokens_per_message=4),
        # The built-in demo model: free, and it counts nothing exactly.
        _spec("demo", 8_192, 1_024, ("0", "0", "0"), None),
    )
}

_INT_FIELDS = ("context_window", "max_output_tokens", "tokens_per_message")
_PRICE_FIELDS = ("input_per_mtok", "cached_input_per_mtok", "output_per_mtok")
_FIELDS = {f.name for f in fields(ModelSpec)} - {"name"}
_REQUIRED = ("context_window", "max_output_tokens", "input_per_mtok", "output_per_mtok")
_EXAMPLE = {
    "context_window": 128000,
    "max_output_tokens": 4096,
    "input_per_mtok": "0.15",
    "output_per_mtok": "0.60",
}
# A dated snapshot: "-2024-07-18", "-0613", "-2507" after a known name.
_SNAPSHOT = re.compile(r"-\d")


# Looks a name up in the model catalogue first (chat.catalogue registers it when
# the app is ready): the registry stays below the catalogue, which builds on it.
_catalogue_lookup: Callable[[str], ModelSpec | None] | None = None


def set_catalogue_lookup(lookup: Callable[[str], ModelSpec | None]) -> None:
    global _catalogue_lookup
    _catalogue_lookup = lookup


def get_spec(name: str) -> ModelSpec:
    """The spec of a model by catalogue key or provider model name: the catalogue
    is the source of truth for its entries; other names fall back to the built-in
    list and the operator's CHAT_MODELS."""
    found = _catalogue_lookup(name) if _catalogue_lookup is not None else None
    return found or static_spec(name)


def static_spec(name: str) -> ModelSpec:
    """The spec for a model name, or for the model a dated snapshot name belongs to,
    from the built-in list and CHAT_MODELS only."""
    models = registry()
    key = name.strip().lower()
    if key in models:
        return models[key]
    # Longest known name that the given one extends with a snapshot suffix, so
    # "gpt-4o-mini-2024-07-18" is gpt-4o-mini, but "gpt-4o-audio-preview" (priced
    # differently) is not silently taken for gpt-4o.
    for known in sorted(models, key=len, reverse=True):
        if key.startswith(known) and _SNAPSHOT.match(key, len(known)):
            return models[known]
    raise UnknownModel(name, sorted(models))


def cost(
    spec: ModelSpec, *, input_tokens: int, cached_input_tokens: int, output_tokens: int
) -> Decimal:
    """USD for one call, quantized to 1e-8; cached tokens are part of input_tokens."""
    cached = min(max(cached_input_tokens, 0), input_tokens)
    total = (
        (input_tokens - cached) * spec.input_per_mtok
        + cached * spec.cached_input_per_mtok
        + output_tokens * spec.output_per_mtok
    ) / MILLION
    return total.quantize(COST_QUANTUM)


def registry() -> MappingProxyType[str, ModelSpec]:
    """Defaults merged with the operator's overrides (settings read on each call)."""
    path = settings.CHAT_MODELS_FILE
    inline = settings.CHAT_MODELS
    if not isinstance(inline, str):
        # A dict set directly in settings (or by a test) is accepted as well.
        inline = json.dumps(inline, default=str, sort_keys=True)
    return _merged(str(path), inline)


@lru_cache(maxsize=8)
def _merged(path: str, inline: str) -> MappingProxyType[str, ModelSpec]:
    models = dict(DEFAULT_MODELS)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(
                f"CHAT_MODELS_FILE {path!r} cannot be read: {exc}"
            ) from exc
        _apply(models, _parse(text, f"CHAT_MODELS_FILE ({path})"))
    if inline:
        _apply(models, _parse(inline, "CHAT_MODELS"))
    return MappingProxyType(models)


def _parse(text: str, source: str) -> tuple[str, dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{source} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ImproperlyConfigured(
            f"{source} must be a JSON object mapping model names to their fields."
        )
    return source, data


def _apply(models: dict[str, ModelSpec], parsed: tuple[str, dict[str, Any]]) -> None:
    source, data = parsed
    for raw_name, entry in data.items():
        name = raw_name.strip().lower()
        if not name:
            raise ImproperlyConfigured(f"{source}: a model name is empty.")
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(
                f"{source}: model {name!r} must map to an object of fields."
            )
        models[name] = _build(name, entry, models.get(name), source)


def _build(
    name: str, entry: dict[str, Any], base: ModelSpec | None, source: str
) -> ModelSpec:
    def bad(field: str, why: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{source}: model {name!r}, field {field!r} {why}")

    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise bad(
            unknown[0], f"is not a model field; use {', '.join(sorted(_FIELDS))}."
        )
    if base is None:
        for field in _REQUIRED:
            if field not in entry:
                raise bad(field, "is required for a model that is not built in.")
    values: dict[str, Any] = {}
    for field, value in entry.items():
        if field in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise bad(field, f"must be a positive integer, not {value!r}.")
            values[field] = value
        elif field in _PRICE_FIELDS:
            values[field] = _price(
                value, bad(field, f"must be a price >= 0, not {value!r}.")
            )
        elif field == "encoding":
            if value is not None and (not isinstance(value, str) or not value):
                raise bad(
                    field, f"must be a tiktoken encoding name or null, not {value!r}."
                )
            values[field] = value
    if base is None:
        values.setdefault("cached_input_per_mtok", values["input_per_mtok"])
        spec = ModelSpec(name=name, **values)
    else:
        spec = replace(base, **values)
    if spec.max_output_tokens > spec.context_window:
        raise bad("max_output_tokens", "must not exceed context_window.")
    return spec


def _price(value: Any, error: ImproperlyConfigured) -> Decimal:
    # Strings or numbers; floats go through str() so 0.15 stays 0.15.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise error
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise error from None
    if not price.is_finite() or price < 0:
        raise error
    return price


def check_models(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """System check: the model registry parses and LLM_MODEL names a known model."""
    try:
        registry()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="chat.E101")]
    name = settings.LLM_MODEL
    if settings.LLM_BACKEND == "demo" or not name:
        return []
    try:
        get_spec(name)
    except UnknownModel as exc:
        return [
            checks.Error(
                f"LLM_MODEL={name!r} is not a known model.",
                hint=str(exc),
                id="chat.E102",
            )
        ]
    return []
