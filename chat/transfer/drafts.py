"""A conversation read from an import file, before it is stored: its messages as
nodes with the file's own ids, checked as a tree (chat.transfer.imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chat.errors import InvalidInput
from chat.guards.sanitize import clean_user_text
from chat.models import Message


@dataclass
class Node:
    """One message of a file, before it is stored; `key` and `parent` are the
    file's own ids. A node with no text (a system or tool message, an empty
    reply) is `skipped`: its children hang on its parent instead."""

    key: str
    parent: str | None
    role: str
    content: str
    model: str = ""
    created: datetime | None = None
    status: str = Message.Status.COMPLETE
    finished: datetime | None = None
    truncated: bool = False
    usage: dict = field(default_factory=dict)
    cost: Decimal = Decimal(0)
    ttft_ms: int | None = None
    duration_ms: int | None = None
    skipped: bool = False


@dataclass
class Draft:
    """One conversation of a file, checked and ready to store."""

    title: str
    nodes: list[Node]
    active: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    model_key: str = ""
    system_prompt: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None


class BadFile(InvalidInput):
    """The import file is not one we can read; the message says where and why."""

    message = "That file could not be imported."


def where(index: int, title: str | None = None) -> str:
    """How an error names a conversation of the file, for people."""
    name = f" ({title[:40]!r})" if title else ""
    return f"Conversation {index + 1}{name}"


def moment(value, what: str) -> datetime | None:
    """A timestamp from the file: ISO 8601 or Unix seconds (ChatGPT's)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadFile(f"{what}: the time must be a date or a number.")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise BadFile(f"{what}: the time is out of range.") from None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else timezone.make_aware(parsed)
    raise BadFile(f"{what}: {value!r:.40} is not a date.")


def check_tree(draft: Draft, label: str) -> None:
    """Every parent exists, ids are unique, and the parents form no cycle; skipped
    nodes are cut out (their children move up) and text is cleaned. Orders the
    nodes parents first, siblings oldest first."""
    nodes: dict[str, Node] = {}
    for node in draft.nodes:
        if node.key in nodes:
            raise BadFile(f"{label}: the id {node.key!r:.50} is used twice.")
        nodes[node.key] = node
    for node in draft.nodes:
        if node.parent is not None and node.parent not in nodes:
            raise BadFile(
                f"{label}: message {node.key!r:.50} names a parent "
                f"{node.parent!r:.50} that is not in the file."
            )
    children: dict[str | None, list[Node]] = {}
    for node in draft.nodes:
        children.setdefault(node.parent, []).append(node)
    ordered: list[Node] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.key, [])))
    if len(ordered) != len(nodes):
        stuck = next(key for key in nodes if key not in {n.key for n in ordered})
        raise BadFile(
            f"{label}: the messages' parents go round in a cycle "
            f"(through {stuck!r:.50})."
        )
    max_chars = settings.CHAT_IMPORT_MAX_BYTES
    for node in ordered:
        if not node.skipped:
            try:
                node.content = clean_user_text(node.content, max_chars=max_chars)
            except InvalidInput:
                node.skipped = True  # nothing left once cleaned
    # Cut out the nodes with nothing to show; their children take their parent.
    kept_parent: dict[str, str | None] = {}
    for node in ordered:
        parent = node.parent
        parent = kept_parent[parent] if parent in kept_parent else parent
        if node.skipped:
            kept_parent[node.key] = parent
        else:
            node.parent = parent
    if draft.active in kept_parent:
        draft.active = kept_parent[draft.active]
    elif draft.active is not None and draft.active not in nodes:
        draft.active = None
    draft.nodes = [node for node in ordered if not node.skipped]
    try:
        draft.title = clean_user_text(draft.title, max_chars=max_chars)[:200]
    except InvalidInput:
        first = next((n for n in draft.nodes if n.role == Message.Role.USER), None)
        draft.title = " ".join(first.content.split())[:60] if first else ""
    draft.title = draft.title or "Imported conversation"
