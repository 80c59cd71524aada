"""Entries that tools add to the catalogue: the local development model."""

from __future__ import annotations

from django.db import transaction

from chat.models import CatalogueEntry

LOCAL_KEY = "local"


def local_model_register(*, base_url: str, model: str = "smollm2") -> CatalogueEntry:
    """Add (or update) the local llama.cpp model and make it the default; every
    running process picks it up at its next turn, with no restart. Idempotent."""
    with transaction.atomic():
        CatalogueEntry.objects.exclude(key=LOCAL_KEY).filter(is_default=True).update(
            is_default=False
        )
        entry, _ = CatalogueEntry.objects.update_or_create(
            key=LOCAL_KEY,
            defaults={
                "name": "SmolLM2 135M (local, tiny: expect odd answers)",
                "provider": "openai",
                "model": model,
                "base_url": base_url,
                "api_key_env": "",
                # llama.cpp runs it with a 2048-token context (bin/run-local).
                "context_window": 2048,
                "max_output_tokens": 1024,
                "input_per_mtok": 0,
                "cached_input_per_mtok": 0,
                "output_per_mtok": 0,
                "enabled": True,
                "is_default": True,
                "sort_order": -1,
            },
        )
    return entry
