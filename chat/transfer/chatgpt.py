"""ChatGPT's data export (conversations.json) read as drafts to import.

The file is a list of conversations; each holds a `mapping` of nodes by id, every
node with its `parent` id (None at the root), its `children` ids and a `message`
(or null): `author.role`, `content` (`content_type` "text" with `parts`, a list
of strings; other types carry `parts` with objects, or `text`), `create_time` in
Unix seconds and `metadata.model_slug`. `current_node` is the leaf of the branch
that was shown. System, tool and hidden messages, and parts that are not text
(images, files), are left out.
"""

from __future__ import annotations

from chat.transfer.drafts import BadFile, Draft, Node, moment, where


def looks_like(data) -> bool:
    """A ChatGPT export: a list of conversations with a `mapping` (or one)."""
    if isinstance(data, dict):
        return "mapping" in data
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and "mapping" in data[0]
    )


def drafts(items: list) -> list[Draft]:
    return [_draft(item, index) for index, item in enumerate(items)]


def _draft(item, index: int) -> Draft:
    if not isinstance(item, dict):
        raise BadFile(f"{where(index)}: must be an object.")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise BadFile(f"{where(index)}: 'title' must be text.")
    label = where(index, title)
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise BadFile(f"{label}: 'mapping' must be an object of nodes.")
    nodes = [_node(key, node, mapping, label) for key, node in mapping.items()]
    current = item.get("current_node")
    return Draft(
        title=title or "",
        nodes=nodes,
        active=current if isinstance(current, str) else None,
        created=moment(item.get("create_time"), label),
        updated=moment(item.get("update_time"), label),
    )


def _node(key: str, node, mapping: dict, label: str) -> Node:
    what = f"{label}, node {key!r:.50}"
    if not isinstance(node, dict):
        raise BadFile(f"{what}: must be an object.")
    parent = node.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise BadFile(f"{what}: 'parent' must be a node id or null.")
    children = node.get("children") or []
    if not isinstance(children, list):
        raise BadFile(f"{what}: 'children' must be a list.")
    for child in children:
        if not isinstance(child, str) or child not in mapping:
            raise BadFile(f"{what}: child {child!r:.50} is not in the mapping.")
    message = node.get("message")
    if message is not None and not isinstance(message, dict):
        raise BadFile(f"{what}: 'message' must be an object or null.")
    role, text, model, created = _message(message or {}, what)
    return Node(
        key=key,
        parent=parent,
        role=role or "user",
        content=text,
        model=model,
        created=created,
        skipped=role is None or not text.strip(),
    )


def _message(message: dict, what: str) -> tuple[str | None, str, str, object]:
    """(role or None when not a chat message, text, model, time)."""
    author = message.get("author") or {}
    if not isinstance(author, dict):
        raise BadFile(f"{what}: 'author' must be an object.")
    role = author.get("role")
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadFile(f"{what}: 'metadata' must be an object.")
    hidden = metadata.get("is_visually_hidden_from_conversation")
    content = message.get("content") or {}
    if not isinstance(content, dict):
        raise BadFile(f"{what}: 'content' must be an object.")
    parts = content.get("parts")
    if parts is not None and not isinstance(parts, list):
        raise BadFile(f"{what}: 'parts' must be a list.")
    texts = [part for part in parts or [] if isinstance(part, str)]
    if not texts and isinstance(content.get("text"), str):
        texts = [content["text"]]
    model = metadata.get("model_slug")
    created = moment(message.get("create_time"), what)
    if role not in ("user", "assistant") or hidden:
        role = None
    # Text parts are pieces of one text; other kinds hold separate items.
    glue = "" if content.get("content_type") == "text" else "\n\n"
    model = model[:100] if isinstance(model, str) else ""
    return role, glue.join(texts), model, created
