"""A conversation's tool switches and a reply's artefacts, for the page's API."""

from __future__ import annotations

import uuid

from chat.catalogue.selectors import choose
from chat.errors import InvalidInput, NotFound
from chat.models import Conversation, ToolArtefact
from chat.tools.registry import tools_available

__all__ = ["artefact_get", "conversation_tools", "conversation_tools_set"]


async def _conversation(user, conversation_id: uuid.UUID) -> Conversation:
    try:
        return await Conversation.objects.aget(pk=conversation_id, user=user)
    except Conversation.DoesNotExist:
        raise NotFound() from None


async def _offered(user, conversation: Conversation) -> list[str]:
    entry = (await choose(user=user, conversation=conversation)).entry
    return [tool.name for tool in await tools_available(user, entry)]


async def conversation_tools(*, user, conversation_id: uuid.UUID) -> list[dict]:
    """The tools the conversation's model offers this user, each on or off."""
    conversation = await _conversation(user, conversation_id)
    off = set(conversation.tools_off)
    return [
        {"name": name, "on": name not in off}
        for name in await _offered(user, conversation)
    ]


async def conversation_tools_set(
    *, user, conversation_id: uuid.UUID, off
) -> list[dict]:
    """Switch tools off (the names in `off`) and the rest on; only tools the user
    is offered can be named."""
    if not isinstance(off, list) or not all(isinstance(n, str) for n in off):
        raise InvalidInput("'off' must be a list of tool names.")
    conversation = await _conversation(user, conversation_id)
    offered = await _offered(user, conversation)
    unknown = sorted(set(off) - set(offered))
    if unknown:
        raise InvalidInput(f"No tool {unknown[0][:100]!r} is offered here.")
    conversation.tools_off = sorted(set(off))
    await conversation.asave(update_fields=["tools_off", "updated"])
    return await conversation_tools(user=user, conversation_id=conversation_id)


async def artefact_get(*, user, artefact_id: uuid.UUID) -> ToolArtefact:
    """An artefact of one of the user's replies; anyone else's is missing."""
    try:
        return await ToolArtefact.objects.aget(
            pk=artefact_id, message__conversation__user=user
        )
    except ToolArtefact.DoesNotExist:
        raise NotFound("That file does not exist.") from None
