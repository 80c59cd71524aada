"""The one failure a tool reports: a stable code and a message safe to show the
model and the page (never a traceback, a host path or a secret)."""

from __future__ import annotations


class ToolError(Exception):
    """A tool call that did not produce a result."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")
