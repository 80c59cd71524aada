"""A conversation as a tree of messages: each message follows its `parent`; the
siblings of a message are its versions (edits of a user message, regenerations of
a reply); the conversation's `active_leaf` picks the branch the page shows and the
prompts are built from, `active_path`. Reads load a conversation's messages in one
query and walk them in memory."""

from __future__ import annotations

import uuid
from collections import defaultdict

from asgiref.sync import sync_to_async
from django.db import transaction

from chat.errors import NotFound
from chat.models import Conversation, Message


def _order(message: Message) -> tuple:
    return (message.created, str(message.id))


class Tree:
    """A conversation's messages, by id and by parent, with its active leaf."""

    def __init__(self, conversation_id: uuid.UUID) -> None:
        self.leaf_id = (
            Conversation.objects.filter(pk=conversation_id)
            .values_list("active_leaf_id", flat=True)
            .first()
        )
        self.messages = {
            m.id: m for m in Message.objects.filter(conversation_id=conversation_id)
        }
        self.children: dict[uuid.UUID | None, list[Message]] = defaultdict(list)
        for message in sorted(self.messages.values(), key=_order):
            self.children[message.parent_id].append(message)

    def path(self) -> list[Message]:
        """Root to active leaf."""
        path, node, seen = [], self.messages.get(self.leaf_id), set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            path.append(node)
            node = self.messages.get(node.parent_id)
        return path[::-1]

    def versions(self, message: Message) -> list[uuid.UUID]:
        return [m.id for m in self.children[message.parent_id]]

    def leaf_under(self, message: Message) -> Message:
        """The end of the newest branch below a message (itself when it has none)."""
        while self.children.get(message.id):
            message = self.children[message.id][-1]
        return message


def active_path(conversation: Conversation) -> list[Message]:
    """The messages of the branch shown, root to leaf, in order."""
    return Tree(conversation.pk).path()


def versions_of(message: Message) -> list[uuid.UUID]:
    """The ids of a message's siblings (its versions) in creation order, itself
    included."""
    siblings = Message.objects.filter(
        conversation_id=message.conversation_id, parent_id=message.parent_id
    ).order_by("created", "id")
    return list(siblings.values_list("id", flat=True))


def path_with_versions(conversation: Conversation) -> list[tuple[Message, list]]:
    """The active path, each message with its versions: what the page shows."""
    tree = Tree(conversation.pk)
    return [(message, tree.versions(message)) for message in tree.path()]


aactive_path = sync_to_async(active_path)
aversions_of = sync_to_async(versions_of)
apath_with_versions = sync_to_async(path_with_versions)


@sync_to_async
def version_show(*, user, conversation_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    """Make the branch through a message the active one (ending at the newest leaf
    below it) and return that leaf. Another user's conversation, or a message that
    is not in this one, is NotFound: nothing changes."""
    with transaction.atomic():
        # Locks the conversation's row: a send or a redo appends to the leaf.
        mine = (
            Conversation.objects.select_for_update()
            .filter(pk=conversation_id, user=user)
            .exists()
        )
        tree = Tree(conversation_id) if mine else None
        message = tree.messages.get(message_id) if tree else None
        if message is None:
            raise NotFound("That message does not exist in this conversation.")
        leaf = tree.leaf_under(message)
        Conversation.objects.filter(pk=conversation_id).update(active_leaf=leaf)
    return leaf
