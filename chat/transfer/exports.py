"""A conversation as readable Markdown (its active path) or as our JSON (the whole
tree, with models, timestamps and usage), and all of a user's as one zip."""

from __future__ import annotations

import json
import tempfile
import zipfile
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.text import slugify

from chat import tree
from chat.models import Conversation, Message

FORMAT = "djchat-conversations"
VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_json(message: Message) -> dict:
    return {
        "id": str(message.id),
        "parent": str(message.parent_id) if message.parent_id else None,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "model": message.model,
        "created": _iso(message.created),
        "finished": _iso(message.finished),
        "truncated": message.truncated,
        "usage": {
            "input_tokens": message.input_tokens,
            "cached_input_tokens": message.cached_input_tokens,
            "output_tokens": message.output_tokens,
            "estimated": message.usage_estimated,
        },
        "cost": f"{message.cost:.8f}",
        "ttft_ms": message.ttft_ms,
        "duration_ms": message.duration_ms,
    }


def conversation_json(conversation: Conversation) -> dict:
    """The whole tree of one conversation (every version), oldest message first."""
    messages = conversation.messages.order_by("created", "id")
    return {
        "id": str(conversation.id),
        "title": conversation.title,
        "created": _iso(conversation.created),
        "updated": _iso(conversation.updated),
        "model": conversation.model_key,
        "system_prompt": conversation.system_prompt,
        "temperature": conversation.temperature,
        "max_output_tokens": conversation.max_output_tokens,
        "active_leaf": (
            str(conversation.active_leaf_id) if conversation.active_leaf_id else None
        ),
        "messages": [message_json(m) for m in messages],
    }


def envelope(conversations: list[dict]) -> dict:
    """The versioned file around exported conversations (docs/export-format.md)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported": _iso(timezone.now()),
        "conversations": conversations,
    }


def export_json(conversation: Conversation) -> str:
    return _dumps(envelope([conversation_json(conversation)]))


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)


def export_markdown(conversation: Conversation) -> str:
    """The branch shown, as a person would read it."""
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    lines.append(f"_Exported {timezone.localtime():%Y-%m-%d %H:%M}_")
    previous = None
    for message in tree.active_path(conversation):
        if previous == message.role == Message.Role.ASSISTANT:
            # A continuation reads as the rest of the reply it carries on.
            lines[-1] += message.content
            continue
        previous = message.role
        when = f"{timezone.localtime(message.created):%Y-%m-%d %H:%M}"
        if message.role == Message.Role.USER:
            heading = f"## You · {when}"
        else:
            heading = f"## Assistant ({message.model or 'model'}) · {when}"
        lines += ["", heading, "", message.content or "_(no text)_"]
    return "\n".join(lines) + "\n"


def filename(conversation: Conversation, extension: str) -> str:
    stem = slugify(conversation.title)[:60] or "conversation"
    return f"{stem}-{str(conversation.id)[:8]}.{extension}"


def export_all(*, user) -> tempfile.SpooledTemporaryFile:
    """A zip of every conversation of the user: conversations.json (all of them,
    the importable file) and one Markdown file each. Spooled to disk past 10 MB."""
    out = tempfile.SpooledTemporaryFile(max_size=10 * 2**20)
    rows = Conversation.objects.filter(user=user).order_by("created")
    everything = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for conversation in rows.iterator():
            everything.append(conversation_json(conversation))
            archive.writestr(
                f"markdown/{filename(conversation, 'md')}",
                export_markdown(conversation),
            )
        archive.writestr("conversations.json", _dumps(envelope(everything)))
    out.seek(0)
    return out
