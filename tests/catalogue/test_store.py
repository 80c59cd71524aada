"""The catalogue in memory: its default, and changes seen by every process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from django.db import connection

from chat.catalogue.store import catalogue_sync, get_catalogue
from chat.llm.registry import get_spec
from chat.models import CatalogueEntry
from tests.catalogue.conftest import make_entry
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_marked_default_wins_over_the_environment_entry(db):
    make_entry("alpha", sort_order=2)
    make_entry("beta", sort_order=1, is_default=True)
    catalogue = catalogue_sync()
    assert catalogue.default().key == "beta"
    keys = [e.key for e in catalogue.entries]
    assert keys.index("beta") < keys.index("alpha")


def test_an_empty_catalogue_serves_the_settings_model(db, settings):
    CatalogueEntry.objects.all().delete()
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"
    default = catalogue_sync().default()
    assert (default.key, default.model, default.from_environment) == (
        "default",
        "gpt-4o-mini",
        True,
    )


def test_the_seeded_entry_follows_the_settings(db, settings):
    """The migration's entry is how an existing deploy keeps working untouched."""
    CatalogueEntry.objects.all().delete()
    CatalogueEntry.objects.create(
        key="default", name="Site model", from_environment=True, is_default=True
    )
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o"
    settings.OPENAI_BASE_URL = "http://models.internal/v1"
    entry = catalogue_sync().default()
    assert entry.name == "Site model" and entry.model == "gpt-4o"
    assert entry.endpoint == "http://models.internal/v1"
    assert entry.spec.input_per_mtok == get_spec("gpt-4o").input_per_mtok


def test_the_registry_prices_catalogue_models_from_the_catalogue(db):
    make_entry("house", model="gpt-4o", input_per_mtok="9.00")
    catalogue_sync()  # what a turn does first
    assert get_spec("house").input_per_mtok == 9
    # The catalogue is the one source of truth for a model it lists.
    assert get_spec("gpt-4o").input_per_mtok == 9


def test_a_save_reloads_this_process_at_its_next_read(db):
    entry = make_entry("alpha")
    assert catalogue_sync().get("alpha").name == "Alpha"
    entry.name = "Renamed"
    entry.save()
    assert catalogue_sync().get("alpha").name == "Renamed"


CHANGE_IN_ANOTHER_PROCESS = """
import django
django.setup()
from chat.models import CatalogueEntry
entry = CatalogueEntry.objects.get(key="alpha")
entry.name = "Changed elsewhere"
entry.enabled = False
entry.save()
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("through", ["redis", "database"])
async def test_a_change_made_by_another_process_is_seen_without_restart(
    through, request, settings, aentry
):
    if connection.vendor != "postgresql":
        need_service("two processes share only a PostgreSQL test database")
    env = dict(os.environ)  # the suite's own settings module, as pytest set it
    if through == "redis":
        prefix = request.getfixturevalue("live_redis")
        env.update(REDIS_URL=settings.REDIS_URL, REDIS_KEY_PREFIX=prefix)
    else:
        settings.REDIS_URL = ""
        env["REDIS_URL"] = ""
    db = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    await aentry("alpha")
    first = await get_catalogue()
    assert first.get("alpha").enabled
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHANGE_IN_ANOTHER_PROCESS, cwd=ROOT, env=env
    )
    assert await asyncio.wait_for(process.wait(), 60) == 0
    seen = (await get_catalogue()).get("alpha")
    assert (seen.name, seen.enabled) == ("Changed elsewhere", False)
