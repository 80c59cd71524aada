"""The injection policy applied to what a user writes: a message, or their own
instructions and system prompts (chat.catalogue)."""

from __future__ import annotations

from django.conf import settings

from chat.errors import BlockedInput
from chat.guards.injection import screen


def screen_input(text: str) -> list[str]:
    """Apply the injection policy: raise BlockedInput, or return flags to record."""
    policy = settings.CHAT_INJECTION_POLICY
    if policy == "off":
        return []
    result = screen(text, threshold=settings.CHAT_INJECTION_THRESHOLD)
    if not result.flagged:
        return []
    if policy == "block":
        raise BlockedInput(
            "This message looks like an attempt to override the assistant's "
            "instructions, so it was not sent. Rephrase it and try again.",
            detail=", ".join(result.reasons),
        )
    return [f"injection:{reason}" for reason in result.reasons]
