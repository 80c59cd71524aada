"""Admin for the catalogue: models, their fallbacks and who may use them, presets.

Saved changes apply in every process without a restart (chat.catalogue.store)."""

from __future__ import annotations

import os

from django.contrib import admin, messages

from chat.models import CatalogueEntry, CatalogueFallback, Preset


def missing_key_warning(entry: CatalogueEntry) -> str:
    """Why users of this entry get provider_unavailable, or ""; names the variable,
    never its value."""
    if entry.from_environment or not entry.api_key_env:
        return ""
    if os.environ.get(entry.api_key_env):
        return ""
    return (
        f"The environment variable {entry.api_key_env} is not set on this server: "
        f"replies from {entry.key!r} fail with provider_unavailable until it is "
        "set in every process's environment."
    )


class FallbackInline(admin.TabularInline):
    model = CatalogueFallback
    fk_name = "entry"
    extra = 0
    ordering = ["position"]
    verbose_name = "fallback (tried in position order)"


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "provider",
        "model",
        "enabled",
        "is_default",
        "sort_order",
        "context_window",
        "input_per_mtok",
        "output_per_mtok",
    ]
    list_editable = ["enabled", "sort_order"]
    list_filter = ["enabled", "provider", "groups"]
    search_fields = ["key", "name", "model"]
    filter_horizontal = ["groups"]
    inlines = [FallbackInline]
    fieldsets = [
        (None, {"fields": ["key", "name", "enabled", "is_default", "sort_order"]}),
        (
            "Provider",
            {
                "fields": [
                    "from_environment",
                    "provider",
                    "model",
                    "base_url",
                    "api_key_env",
                ]
            },
        ),
        (
            "Limits and prices (USD per million tokens)",
            {
                "fields": [
                    "context_window",
                    "max_output_tokens",
                    "input_per_mtok",
                    "cached_input_per_mtok",
                    "output_per_mtok",
                ]
            },
        ),
        (
            "Capabilities",
            {"fields": ["streaming_usage", "vision", "tools", "json_mode"]},
        ),
        (
            "Generation defaults and bounds",
            {"fields": ["temperature", "top_p", "min_temperature", "max_temperature"]},
        ),
        ("Who may use it", {"fields": ["groups"]}),
    ]

    def save_model(self, request, obj, form, change) -> None:
        if obj.is_default:
            # One default: the one before steps down.
            CatalogueEntry.objects.exclude(pk=obj.pk).filter(is_default=True).update(
                is_default=False
            )
        super().save_model(request, obj, form, change)
        if warning := missing_key_warning(obj):
            messages.warning(request, warning)


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "model_key", "shared", "created"]
    list_filter = ["shared"]
    search_fields = ["name", "description"]
    raw_id_fields = ["owner"]
