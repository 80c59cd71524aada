"""Admin for tools: which tools a catalogue model enables (its form's choices) and
which groups may use a tool. The choices are the built-in tools and, per MCP
server in CHAT_MCP_SERVERS, its wildcard and each tool it lists."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin

from chat.catalogue.admin import CatalogueEntryAdmin
from chat.models import CatalogueEntry, ToolAccess
from chat.tools.registry import known_tool_names


def _choices(*saved: str) -> list[tuple[str, str]]:
    """Every tool name an admin may pick, and any saved one no longer listed (an
    MCP server that is down keeps its tools enabled)."""
    names = async_to_sync(known_tool_names)()
    names += [name for name in saved if name and name not in names]
    return [(name, name) for name in names]


class ToolNamesForm(forms.ModelForm):
    """A catalogue model's form with its enabled tools as checkboxes."""

    tool_names = forms.MultipleChoiceField(
        label="Enabled tools",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tools a turn on this model may use; it must be tool-capable "
        "(CHAT_TOOLS adds to these for every tool-capable model).",
    )

    class Meta:
        model = CatalogueEntry
        exclude: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        saved = self.instance.tool_names if self.instance.pk else []
        self.fields["tool_names"].choices = _choices(*saved)


class ToolAccessForm(forms.ModelForm):
    name = forms.ChoiceField(label="Tool")

    class Meta:
        model = ToolAccess
        fields = ["name", "groups"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = _choices(self.instance.name)


@admin.register(ToolAccess)
class ToolAccessAdmin(admin.ModelAdmin):
    form = ToolAccessForm
    list_display = ["name"]
    filter_horizontal = ["groups"]


class CatalogueEntryWithToolsAdmin(CatalogueEntryAdmin):
    """The catalogue's model admin, with the tools enabled for the model."""

    form = ToolNamesForm
    fieldsets = [
        *CatalogueEntryAdmin.fieldsets,
        ("Tools (the model must be tool-capable)", {"fields": ["tool_names"]}),
    ]


admin.site.unregister(CatalogueEntry)
admin.site.register(CatalogueEntry, CatalogueEntryWithToolsAdmin)
