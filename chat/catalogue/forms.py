"""The settings page's forms: field shapes only; the services check the rest
(screening, the model's bounds) and their errors land on the form."""

from __future__ import annotations

from django import forms
from django.conf import settings


class InstructionsForm(forms.Form):
    text = forms.CharField(
        label="Custom instructions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What every conversation should know about you and how to answer. "
        "Sent as your words, after the site's own instructions.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs["maxlength"] = (
            settings.CHAT_SYSTEM_PROMPT_MAX_CHARS
        )


class PresetForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)
    model = forms.ChoiceField(required=False, help_text="Blank: the default model.")
    system_prompt = forms.CharField(
        label="System prompt", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    temperature = forms.FloatField(
        required=False, help_text="Blank: the model's default."
    )
    max_output_tokens = forms.IntegerField(
        label="Longest reply (tokens)",
        required=False,
        min_value=1,
        help_text="Blank: the model's default.",
    )
    shared = forms.BooleanField(
        label="Share with everyone on this site", required=False
    )

    def __init__(self, *args, models=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Default model")] + [
            (entry.key, entry.name) for entry in models
        ]
