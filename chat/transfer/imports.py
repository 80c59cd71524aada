"""Importing conversations: a file is parsed (our JSON, or ChatGPT's
conversations.json through chat.transfer.chatgpt), checked whole (types, parents
that exist, no cycles), its text cleaned as typed input is (chat.guards.sanitize),
and stored in one transaction: a bad file stores nothing. Imported replies are
history, not calls: they make no ledger rows, so no one is billed for them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.errors import TooLong
from chat.guards.json_limits import loads_limited
from chat.models import CatalogueEntry, Conversation, Message
from chat.transfer import chatgpt
from chat.transfer.drafts import BadFile, Draft, Node, check_tree, moment, where
from chat.transfer.exports import FORMAT, VERSION

# ChatGPT's exports nest metadata deeply; our own files nest five levels.
MAX_DEPTH = 64
# Message.cost holds 14 digits, 8 after the point.
COST_QUANTUM = Decimal("0.00000001")
MAX_COST = Decimal(10**6)
_USAGE = ("input_tokens", "cached_input_tokens", "output_tokens")


def parse(raw: bytes) -> list[Draft]:
    """The conversations of an import file, checked; BadFile or TooLong says why
    not."""
    limit = settings.CHAT_IMPORT_MAX_BYTES
    if len(raw) > limit:
        raise TooLong(f"The file is larger than {limit:,} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("The file is not UTF-8 text: export it again as JSON.") from None
    data = loads_limited(text, max_bytes=limit, max_depth=MAX_DEPTH, what="file")
    if isinstance(data, dict) and data.get("format") == FORMAT:
        drafts = _ours(data)
    elif chatgpt.looks_like(data):
        drafts = chatgpt.drafts(data if isinstance(data, list) else [data])
    else:
        raise BadFile(
            "This is neither a djchat export nor ChatGPT's conversations.json."
        )
    if not drafts:
        raise BadFile("The file holds no conversations.")
    for index, draft in enumerate(drafts):
        check_tree(draft, where(index, draft.title))
    return drafts


def _ours(data: dict) -> list[Draft]:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadFile('"version" must be a whole number.')
    if version > VERSION:
        raise BadFile(
            f"This file is version {version} of the format; this server reads "
            f"up to version {VERSION}."
        )
    conversations = data.get("conversations")
    if not isinstance(conversations, list):
        raise BadFile('"conversations" must be a list.')
    return [_our_draft(item, index) for index, item in enumerate(conversations)]


def _field(data: dict, name: str, kinds, what: str, default=None):
    value = data.get(name, default)
    if value is not None and (
        not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds
    ):
        raise BadFile(f"{what}: {name!r} has the wrong type.")
    return value


def _whole(data: dict, name: str, what: str, default=None) -> int | None:
    """A count or a duration: a whole number the database's columns can hold."""
    value = _field(data, name, (int,), what, default)
    if value is not None and not 0 <= value < 2**31:
        raise BadFile(f"{what}: {name!r} is out of range.")
    return value


def _our_draft(item, index: int) -> Draft:
    if not isinstance(item, dict):
        raise BadFile(f"{where(index)}: must be an object.")
    title = _field(item, "title", (str,), where(index), "") or ""
    label = where(index, title)
    messages = _field(item, "messages", (list,), label)
    if messages is None:
        raise BadFile(f"{label}: 'messages' is missing.")
    nodes = [_our_node(m, f"{label}, message {n + 1}") for n, m in enumerate(messages)]
    temperature = _field(item, "temperature", (int, float), label)
    return Draft(
        title=title,
        nodes=nodes,
        active=_field(item, "active_leaf", (str,), label),
        created=moment(item.get("created"), label),
        updated=moment(item.get("updated"), label),
        model_key=(_field(item, "model", (str,), label, "") or "")[:64],
        system_prompt=_field(item, "system_prompt", (str,), label, "") or "",
        temperature=float(temperature) if temperature is not None else None,
        max_output_tokens=_whole(item, "max_output_tokens", label),
    )


def _our_node(item, what: str) -> Node:
    if not isinstance(item, dict):
        raise BadFile(f"{what}: must be an object.")
    key = _field(item, "id", (str,), what)
    if not key:
        raise BadFile(f"{what}: 'id' is missing.")
    role = item.get("role")
    if role not in Message.Role.values:
        raise BadFile(f'{what}: \'role\' must be "user" or "assistant".')
    content = _field(item, "content", (str,), what, "") or ""
    status = item.get("status") or Message.Status.COMPLETE
    if status == Message.Status.STREAMING:
        # Exported mid-reply: what was written so far.
        status = Message.Status.INTERRUPTED
    if status not in Message.Status.values:
        raise BadFile(f"{what}: 'status' {status!r:.20} is not one we know.")
    usage = _field(item, "usage", (dict,), what) or {}
    counts = {}
    for name in _USAGE:
        counts[name] = _whole(usage, name, what, 0) or 0
    try:
        cost = Decimal(str(item.get("cost") or 0))
    except InvalidOperation:
        raise BadFile(f"{what}: 'cost' is not a number.") from None
    if not (cost.is_finite() and 0 <= cost < MAX_COST):
        raise BadFile(f"{what}: 'cost' is out of range.")
    cost = cost.quantize(COST_QUANTUM)
    return Node(
        key=key,
        parent=_field(item, "parent", (str,), what),
        role=role,
        content=content,
        model=(_field(item, "model", (str,), what, "") or "")[:100],
        created=moment(item.get("created"), what),
        status=status,
        finished=moment(item.get("finished"), what),
        truncated=bool(item.get("truncated")),
        usage={**counts, "usage_estimated": bool(usage.get("estimated"))},
        cost=cost,
        ttft_ms=_whole(item, "ttft_ms", what),
        duration_ms=_whole(item, "duration_ms", what),
        skipped=not content.strip(),
    )


def store(*, user, drafts: list[Draft]) -> list[Conversation]:
    """Store the checked conversations for the user, all or nothing."""
    now = timezone.now()
    made = []
    with transaction.atomic():
        for draft in drafts:
            made.append(_store_one(user=user, draft=draft, now=now))
    return made


def _store_one(*, user, draft: Draft, now: datetime) -> Conversation:
    known = CatalogueEntry.objects.filter(key=draft.model_key).exists()
    conversation = Conversation.objects.create(
        user=user,
        title=draft.title,
        # Another server's catalogue key means nothing here: the default model.
        model_key=draft.model_key if known else "",
        system_prompt=draft.system_prompt,
        temperature=draft.temperature,
        max_output_tokens=draft.max_output_tokens,
    )
    ids = {node.key: uuid.uuid4() for node in draft.nodes}
    start = draft.created or now
    rows = []
    for node in draft.nodes:
        rows.append(
            Message(
                id=ids[node.key],
                conversation=conversation,
                parent_id=ids[node.parent] if node.parent else None,
                role=node.role,
                content=node.content,
                status=node.status,
                model=node.model,
                truncated=node.truncated,
                finished=node.finished,
                cost=node.cost,
                ttft_ms=node.ttft_ms,
                duration_ms=node.duration_ms,
                **node.usage,
            )
        )
    Message.objects.bulk_create(rows, batch_size=500)
    # created is stamped on insert (auto_now_add): the file's times go in after;
    # a missing one follows the one before, so versions keep their order.
    for position, (row, node) in enumerate(zip(rows, draft.nodes, strict=True)):
        row.created = node.created or start + timedelta(microseconds=position)
    Message.objects.bulk_update(rows, ["created"], batch_size=500)
    leaf = ids.get(draft.active) if draft.active else None
    if leaf is None and rows:
        leaf = _newest_leaf(rows)
    Conversation.objects.filter(pk=conversation.pk).update(
        active_leaf_id=leaf,
        created=draft.created or now,
        updated=draft.updated or draft.created or now,
    )
    conversation.refresh_from_db()
    return conversation


def _newest_leaf(rows: list[Message]) -> uuid.UUID:
    """From the newest root, down the newest child each time."""
    children: dict[uuid.UUID | None, list[Message]] = {}
    for row in sorted(rows, key=lambda r: r.created):
        children.setdefault(row.parent_id, []).append(row)
    node = children[None][-1]
    while children.get(node.id):
        node = children[node.id][-1]
    return node.id


def import_file(*, user, raw: bytes) -> list[Conversation]:
    """Parse, check and store an import file for the user: all or nothing."""
    return store(user=user, drafts=parse(raw))
