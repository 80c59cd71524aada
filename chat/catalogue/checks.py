"""System check: catalogue entries whose API key variable is unset."""

from __future__ import annotations

from django.core import checks
from django.db import DatabaseError


@checks.register("chat")
def check_catalogue_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from chat.catalogue.admin import missing_key_warning
    from chat.models import CatalogueEntry

    try:
        rows = list(CatalogueEntry.objects.filter(enabled=True))
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    return [
        checks.Warning(warning, id="chat.W201")
        for row in rows
        if (warning := missing_key_warning(row))
    ]
