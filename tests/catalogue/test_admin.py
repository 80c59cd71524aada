"""The catalogue's admin: warnings for an unset API key variable, one default."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from chat.catalogue.checks import check_catalogue_keys
from chat.models import CatalogueEntry
from tests.catalogue.conftest import make_entry

VARIABLE = "DJCHAT_TEST_UNSET_KEY"


@pytest.fixture
def staff_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(admin)
    return client


def form(**fields) -> dict:
    data = {
        "key": "remote",
        "name": "Remote",
        "enabled": "on",
        "sort_order": 0,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "base_url": "",
        "api_key_env": VARIABLE,
        "context_window": 128000,
        "max_output_tokens": 4096,
        "input_per_mtok": "0.15",
        "cached_input_per_mtok": "0.075",
        "output_per_mtok": "0.6",
        "streaming_usage": "on",
        "temperature": 0.7,
        "top_p": 1.0,
        "min_temperature": 0,
        "max_temperature": 2,
        "fallback_links-TOTAL_FORMS": 0,
        "fallback_links-INITIAL_FORMS": 0,
    }
    return data | fields


def test_saving_an_entry_whose_key_variable_is_unset_warns(staff_client, monkeypatch):
    monkeypatch.setenv(VARIABLE, "")
    response = staff_client.post(
        "/admin/chat/catalogueentry/add/", form(is_default="on"), follow=True
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{VARIABLE} is not set" in text and "provider_unavailable" in text
    entry = CatalogueEntry.objects.get(key="remote")
    # It became the one default; the seeded entry stepped down.
    assert list(CatalogueEntry.objects.filter(is_default=True)) == [entry]


def test_manage_check_warns_about_an_unset_key_variable(db, monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    make_entry("remote", api_key_env=VARIABLE)
    warnings = check_catalogue_keys(None)
    assert [w.id for w in warnings] == ["chat.W201"]
    assert VARIABLE in warnings[0].msg
    monkeypatch.setenv(VARIABLE, "sk-value")
    assert check_catalogue_keys(None) == []
    with pytest.raises(SystemCheckError):
        monkeypatch.delenv(VARIABLE)
        call_command("check", fail_level="WARNING")
