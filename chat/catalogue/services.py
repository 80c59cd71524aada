"""Writes a user makes to their models and prompts: custom instructions, presets,
and a conversation's model, system prompt and generation settings. Prompts are the
user's own content: sanitised and screened like a message."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Q

from chat.catalogue.entries import Entry
from chat.catalogue.selectors import choose
from chat.errors import InvalidInput, NotFound
from chat.guards.sanitize import clean_user_text
from chat.guards.screening import screen_input
from chat.models import Conversation, CustomInstructions, Preset

_UNSET = object()


async def clean_prompt(text: str | None) -> str:
    """A system prompt or custom instructions as clean text ("" clears it), or
    InvalidInput / TooLong / BlockedInput saying why not."""
    if text is None or not str(text).strip():
        return ""
    cleaned = clean_user_text(text, max_chars=settings.CHAT_SYSTEM_PROMPT_MAX_CHARS)
    await screen_input(cleaned)
    return cleaned


def check_generation(
    entry: Entry, *, temperature: float | None, max_output_tokens: int | None
) -> None:
    """Generation settings within the model's admin-set bounds."""
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise InvalidInput("The temperature must be a number.")
        if not entry.min_temperature <= temperature <= entry.max_temperature:
            raise InvalidInput(
                f"The temperature for {entry.name} must be between "
                f"{entry.min_temperature:g} and {entry.max_temperature:g}."
            )
    if max_output_tokens is not None:
        limit = entry.spec.max_output_tokens
        if (
            isinstance(max_output_tokens, bool)
            or not isinstance(max_output_tokens, int)
            or not 1 <= max_output_tokens <= limit
        ):
            raise InvalidInput(
                f"The reply length for {entry.name} must be 1 to {limit:,} tokens."
            )


async def instructions_get(*, user) -> str:
    row = await CustomInstructions.objects.filter(user=user).afirst()
    return row.text if row else ""


async def instructions_set(*, user, text: str | None) -> str:
    cleaned = await clean_prompt(text)
    await CustomInstructions.objects.aupdate_or_create(
        user=user, defaults={"text": cleaned}
    )
    return cleaned


def _visible(user) -> Q:
    """Admins' presets (no owner), shared ones, and the user's own."""
    return Q(owner__isnull=True) | Q(shared=True) | Q(owner=user)


async def presets_list(*, user) -> list[Preset]:
    return [p async for p in Preset.objects.filter(_visible(user))]


async def preset_get(*, user, preset_id: int) -> Preset:
    """A preset the user may start from; another user's unshared one looks missing."""
    try:
        return await Preset.objects.aget(_visible(user), pk=preset_id)
    except (Preset.DoesNotExist, ValueError, TypeError):
        raise NotFound("That preset does not exist.") from None


async def preset_create(
    *,
    user,
    name: str,
    description: str = "",
    model: str | None = None,
    system_prompt: str | None = None,
    temperature: float | None = None,
    max_output_tokens: int | None = None,
    shared: bool = False,
) -> Preset:
    name = clean_user_text(name or "", max_chars=100)
    description = (await clean_prompt(description))[:300]
    entry = (await choose(user=user, requested=model)).entry
    check_generation(
        entry, temperature=temperature, max_output_tokens=max_output_tokens
    )
    return await Preset.objects.acreate(
        owner=user,
        name=name,
        description=description,
        model_key=entry.key if model else "",
        system_prompt=await clean_prompt(system_prompt),
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        shared=bool(shared),
    )


async def conversation_settings_set(
    *,
    user,
    conversation_id: uuid.UUID,
    model=_UNSET,
    system_prompt=_UNSET,
    temperature=_UNSET,
    max_output_tokens=_UNSET,
) -> Conversation:
    """Change what a conversation's next turns use; only the fields given."""
    try:
        conversation = await Conversation.objects.aget(pk=conversation_id, user=user)
    except Conversation.DoesNotExist:
        raise NotFound() from None
    if model is not _UNSET:
        entry = (await choose(user=user, requested=model or None)).entry
        conversation.model_key = entry.key
    else:
        entry = (await choose(user=user, conversation=conversation)).entry
    if system_prompt is not _UNSET:
        conversation.system_prompt = await clean_prompt(system_prompt)
    # Only what is given is checked: settings kept across a switch of model are
    # brought within the new model's bounds at each turn (chat.catalogue.turns).
    check_generation(
        entry,
        temperature=None if temperature is _UNSET else temperature,
        max_output_tokens=None if max_output_tokens is _UNSET else max_output_tokens,
    )
    if temperature is not _UNSET:
        conversation.temperature = temperature
    if max_output_tokens is not _UNSET:
        conversation.max_output_tokens = max_output_tokens
    await conversation.asave(
        update_fields=[
            "model_key",
            "system_prompt",
            "temperature",
            "max_output_tokens",
            "updated",
        ]
    )
    return conversation


async def preset_delete(*, user, preset_id: int) -> None:
    """Delete one of the user's own presets; anyone else's looks missing.
    Conversations started from it keep the settings they copied."""
    deleted, _ = await Preset.objects.filter(owner=user, pk=preset_id).adelete()
    if not deleted:
        raise NotFound("That preset does not exist.")
