"""Error records: every failure an operator should see in the admin."""

from __future__ import annotations

import logging
import traceback

from chat.errors import ChatError, InternalError
from chat.logs import scrub
from chat.models import ErrorRecord
from chat.observability import metrics

log = logging.getLogger("chat.errors")


async def error_record(
    error: ChatError,
    *,
    user=None,
    kind: str,
    turn_id: str = "",
    conversation=None,
    message=None,
    endpoint: str = "",
) -> None:
    """Store and log one failure; a traceback is kept for internal errors only.
    What is stored is scrubbed as log lines are (chat/logs.py): no key, token or
    secret URL path reaches the admin."""
    trace = ""
    source = error.__cause__ or error
    if isinstance(error, InternalError) and source.__traceback__ is not None:
        trace = "".join(traceback.format_exception(source))
    metrics.observe_error(kind=kind, code=error.code)
    log.warning(
        "%s error %s",
        kind,
        error.code,
        extra={
            "turn_id": turn_id,
            "kind": kind,
            "code": error.code,
            "detail": error.detail or "",
        },
    )
    try:
        await ErrorRecord.objects.acreate(
            kind=kind,
            code=error.code,
            user=user if getattr(user, "pk", None) else None,
            conversation=conversation,
            message=message,
            endpoint=endpoint,
            detail=scrub(error.detail or error.message)[:2000],
            traceback=scrub(trace),
            turn_id=turn_id,
        )
    except Exception:
        log.exception("could not store an error record")
