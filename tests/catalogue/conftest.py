"""Catalogue entries on real OpenAI-compatible test servers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from chat.models import CatalogueEntry, CatalogueFallback
from tests.servers.fake_openai import FakeOpenAI


@pytest.fixture
def second_openai():
    """Another scripted OpenAI-compatible server: a second real endpoint."""
    with FakeOpenAI() as server:
        yield server


def make_entry(key: str, **fields) -> CatalogueEntry:
    values = {
        "name": key.replace("-", " ").title(),
        "provider": "openai",
        "model": f"{key}-model",
        "context_window": 8192,
        "max_output_tokens": 1024,
        "input_per_mtok": Decimal("1.00"),
        "cached_input_per_mtok": Decimal("0.50"),
        "output_per_mtok": Decimal("2.00"),
        **fields,
    }
    fallbacks = values.pop("fallbacks", [])
    groups = values.pop("groups", [])
    if values.get("is_default"):
        CatalogueEntry.objects.filter(is_default=True).update(is_default=False)
    entry = CatalogueEntry.objects.create(key=key, **values)
    for position, other in enumerate(fallbacks):
        CatalogueFallback.objects.create(entry=entry, fallback=other, position=position)
    if groups:
        entry.groups.set(groups)
    return entry


@pytest.fixture
def entry_factory(db):
    return make_entry


@pytest.fixture
def aentry():
    """make_entry from async tests."""
    return sync_to_async(make_entry)
