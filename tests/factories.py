"""Model factories: rows with sensible defaults, each field overridable. Plain
functions (no factory library): `x(...)` saves and returns a row, `ax(...)` does
the same from async tests, `build_x(...)` returns it unsaved (for bulk_create)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from chat.models import Conversation, ErrorRecord, Message, ModelCall, Quota

PASSWORD = "pw-factory-123!"


def user(username: str, *, password: str = PASSWORD, **fields):
    return get_user_model().objects.create_user(username, password=password, **fields)


def build_conversation(user, **fields) -> Conversation:
    return Conversation(user=user, **({"title": "A conversation"} | fields))


def conversation(user, **fields) -> Conversation:
    row = build_conversation(user, **fields)
    row.save()
    return row


async def aconversation(user, **fields) -> Conversation:
    row = build_conversation(user, **fields)
    await row.asave()
    return row


def build_message(conversation, **fields) -> Message:
    return Message(conversation=conversation, **({"role": "user"} | fields))


def message(conversation, **fields) -> Message:
    row = build_message(conversation, **fields)
    row.save()
    return row


async def amessage(conversation, **fields) -> Message:
    row = build_message(conversation, **fields)
    await row.asave()
    return row


def build_model_call(user, **fields) -> ModelCall:
    defaults = {"model": "gpt-4o-mini", "status": "complete"}
    return ModelCall(user=user, **(defaults | fields))


def model_call(user, **fields) -> ModelCall:
    row = build_model_call(user, **fields)
    row.save()
    return row


async def amodel_call(user, **fields) -> ModelCall:
    row = build_model_call(user, **fields)
    await row.asave()
    return row


def error_record(**fields) -> ErrorRecord:
    defaults = {"kind": "reply", "code": "internal"}
    return ErrorRecord.objects.create(**(defaults | fields))


def quota(user, **fields) -> Quota:
    return Quota.objects.create(user=user, **fields)


async def aquota(user, **fields) -> Quota:
    return await Quota.objects.acreate(user=user, **fields)
