"""Logging: one JSON object per line, with secrets redacted from every record.

A turn's lines carry its `turn_id` (the id shown in the error frames the user sees,
so a support request can be traced): pass it in `extra`, or wrap work in
`log_context(turn_id=...)` and every line logged inside, by our code or a library's,
carries it. The level is LOG_LEVEL; the format LOG_FORMAT (json or plain).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from chat.guards.secrets import redact

# Attributes every LogRecord has; anything else was passed through `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Extras named like these are replaced whatever their value (counts such as
# `input_tokens` are not: the match is on whole names and `_token` suffixes).
_SECRET_NAMES = {
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "token",
}
_SECRET_SUFFIXES = ("_password", "_secret", "_api_key", "_token")
REDACTED = "[redacted]"
# URL paths whose next segment is a secret: allauth's password-reset and email
# confirmation keys, invitation and share links. A logged path (an access log
# line, Django's "Not Found: /path", a request in an extra) keeps the prefix, not
# the secret.
SECRET_PATH_PREFIXES = (
    "/accounts/password/reset/key/",
    "/accounts/confirm-email/",
    "/accounts/invite/",
    "/share/",
)
_SECRET_PATH = re.compile(
    "(" + "|".join(map(re.escape, SECRET_PATH_PREFIXES)) + r")[^/\s?#'\"<>]+"
)
# Query parameters that carry credentials: an OIDC callback's code and state, a key
# sent (and refused) in a URL. Access logs show the whole URI.
SECRET_QUERY_PARAMS = (
    "code",
    "state",
    "nonce",
    "key",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "id_token",
    "password",
)
_SECRET_QUERY = re.compile(
    r"([?&](?:" + "|".join(map(re.escape, SECRET_QUERY_PARAMS)) + r")=)[^&\s#'\"<>]+",
    re.IGNORECASE,
)

_context: ContextVar[dict[str, Any] | None] = ContextVar(
    "chat_log_context", default=None
)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields (e.g. turn_id) to every record logged inside the block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def _secret_name(name: str) -> bool:
    name = name.lower()
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def scrub(text: str) -> str:
    """The text without secrets: keys and tokens, also in URL paths and queries."""
    text = _SECRET_PATH.sub(rf"\1{REDACTED}", redact(text))
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", text)


def _clean(value: Any) -> Any:
    """Redact strings, also inside dicts, lists and tuples."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if _secret_name(str(k)) else _clean(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


class RedactSecretsFilter(logging.Filter):
    """Keeps API keys, tokens and passwords out of every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key in _STANDARD:
                continue
            if _secret_name(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, str | dict | list | tuple):
                setattr(record, key, _clean(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(
                logging.Formatter().formatException(record.exc_info)
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON line per record: time, level, logger, message, the log context and
    any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (_context.get() or {}).items():
            entry[key] = REDACTED if _secret_name(key) else _clean(value)
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(
                record.exc_info
            )
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Other objects (Django's `request` extra) as their text, scrubbed too.
        return json.dumps(entry, default=lambda value: scrub(str(value)))
