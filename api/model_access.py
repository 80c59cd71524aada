"""Which models a user may call through the API: the one lookup to swap when models
become per user."""

from __future__ import annotations

from django.conf import settings

from chat.llm import chat_models


def models_for(user) -> list[str]:
    """Model names `user` may ask for: the configured model, then its fallbacks."""
    names = [chat_models.model_name()]
    if not chat_models.is_demo():
        names += [entry.partition("@")[0] for entry in settings.LLM_FALLBACKS]
    return list(dict.fromkeys(names))
