"""Which models a user may use, and which one a turn runs on."""

from __future__ import annotations

from dataclasses import dataclass

from chat.catalogue.entries import Entry
from chat.catalogue.store import Catalogue, get_catalogue
from chat.errors import InvalidInput, ProviderUnavailable


async def user_group_ids(user) -> frozenset[int]:
    return frozenset([pk async for pk in user.groups.values_list("pk", flat=True)])


async def models_for(user) -> tuple[list[Entry], Entry | None]:
    """The enabled entries this user may use, in display order, and their default:
    the catalogue's, else the first they may use. An empty catalogue (never
    seeded) serves the settings' own model; None when the user may use none."""
    catalogue = await get_catalogue()
    if not catalogue.entries:
        default = catalogue.default()
        return [default], default
    groups = await user_group_ids(user)
    usable = [e for e in catalogue.entries if e.enabled and e.usable_by(groups)]
    default = catalogue.default()
    if default not in usable:
        default = usable[0] if usable else None
    return usable, default


@dataclass(frozen=True)
class Choice:
    """The entry a turn runs on, and a note for the user when the conversation's
    own model could not be used and the default stands in for it."""

    entry: Entry
    note: str = ""


def _refusal(entry: Entry | None, key: str, groups: frozenset[int]) -> str:
    """Why this user may not pick this model, or "" when they may."""
    if entry is None:
        return f"There is no model {key!r}."
    if not entry.enabled:
        return f"The model {entry.name!r} is disabled."
    if not entry.usable_by(groups):
        return f"You may not use the model {entry.name!r}."
    return ""


async def choose(*, user, conversation=None, requested: str | None = None) -> Choice:
    """The model for a turn: the one the frame asks for (refused with `invalid`
    naming the reason), else the conversation's, else the default. A conversation
    whose model was disabled or restricted since falls back to the default, noted."""
    catalogue: Catalogue = await get_catalogue()
    groups = await user_group_ids(user)
    if requested:
        entry = catalogue.get(requested)
        if entry is None and not catalogue.entries:
            # Never seeded: the settings' own model is the one entry there is.
            default = catalogue.default()
            entry = default if default.key == requested else None
        if reason := _refusal(entry, requested, groups):
            raise InvalidInput(reason)
        return Choice(_available(entry))
    _, default = await models_for(user)
    if default is None:
        raise InvalidInput(
            "No model is available to your account; ask an administrator."
        )
    key = getattr(conversation, "model_key", "")
    if key and key != default.key:
        entry = catalogue.get(key)
        if _refusal(entry, key, groups):
            name = entry.name if entry else key
            return Choice(
                _available(default),
                note=f"{name} is no longer available; {default.name} answered.",
            )
        return Choice(_available(entry))
    return Choice(_available(default))


def _available(entry: Entry) -> Entry:
    """The entry, or provider_unavailable when its API key variable is unset (the
    operator is warned in admin and by `manage.py check`; the user is not told
    the variable's name or value)."""
    if entry.api_key() is None:
        raise ProviderUnavailable(
            f"The model {entry.name!r} is not configured on this server yet.",
            detail=f"catalogue entry {entry.key}: API key variable unset",
        )
    return entry
