"""Which models a key's user may call: the catalogue entries the page offers them.

A request names a model by its catalogue key (what GET /v1/models lists) or by the
provider's model name of one of those entries, as OpenAI clients are used to."""

from __future__ import annotations

from chat.catalogue.selectors import models_for as catalogue_models_for


async def models_for(user) -> list[str]:
    """Catalogue keys of the models `user` may use, in display order."""
    entries, _ = await catalogue_models_for(user)
    return [entry.key for entry in entries]


async def model_key_for(user, model: str) -> str | None:
    """The catalogue key `model` names for this user: an entry's key, else the
    provider model name of an entry they may use; None when neither."""
    entries, _ = await catalogue_models_for(user)
    for entry in entries:
        if entry.key == model:
            return entry.key
    for entry in entries:
        if entry.model == model:
            return entry.key
    return None
