"""The streaming output filter: redacts secrets from a reply as it streams, with a
hold-back buffer so a secret split across chunks is still caught, and stops the
reply when it leaks the turn's canary or the system prompt. It fails closed.

What a stream of chunks emits is exactly `redact_reply()` of the whole reply,
however it was split. The filter keeps the raw text it has not emitted yet and, on
each chunk:

- redacts every match that no later text could change, in the text as written and
  with disguises undone (`chat.guards.redaction.scan`);
- emits plain text up to the earliest start of an unfinished match, or of text
  that could still grow into a leak of the canary or the system prompt
  (`chat.guards.leaks`), and holds the rest (in English prose, typically the last
  partial word);
- raises `BlockedOutput` as soon as the text read leaks the canary or a long span
  of the system prompt, before any part of that span was emitted.

Coalescing (`coalesce_ms`): most of the cost is per call, so chunks that arrive
close together are scanned together: a chunk is only collected until
`coalesce_chars` characters wait or `coalesce_ms` have passed since the last scan.
Collected text is held back like any other, so the guarantee is the same; the
caller must `flush()` once `flush_due_in()` has passed (chat.filtered_output), or text
would wait for the next chunk.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from chat.errors import BlockedOutput
from chat.guards.leaks import ENCODED_MAX, LeakGuard
from chat.guards.redaction import scan
from chat.guards.secrets import MAX_SECRET_LEN, redactor

__all__ = ["StreamFilter"]

# Raw text kept before the buffer: the rules' lookbehinds read up to 16 characters
# back (a Telegram token's bot id, a shifted prefix check), and an unlabelled key
# is measured over its whole 40-character word.
_CONTEXT = 48
# A held private key longer than this is extended without rescanning (see
# `_in_open_key`); characters a key's body never has end the shortcut.
_OPEN_KEY_MIN = 64
_NOT_KEY_BODY = re.compile(r"[^A-Za-z0-9+/=\s:,.-]")
# With coalescing, collected text is scanned once this much waits.
COALESCE_CHARS = 1024
# The most raw text ever held: a secret's bound plus an encoded run being read.
MAX_HELD = MAX_SECRET_LEN + ENCODED_MAX + 64


class StreamFilter:
    """Redacts one reply as it streams; `feed` each chunk, then `finish` once."""

    def __init__(
        self,
        *,
        canary: str | None = None,
        pii: bool = False,
        system_prompt: str = "",
        coalesce_ms: float = 0.0,
        coalesce_chars: int = COALESCE_CHARS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = coalesce_ms / 1000
        self._batch = coalesce_chars
        self._clock = clock
        self._scanned_at = -float("inf")
        self._unscanned: list[str] = []  # chunks collected, not scanned yet
        self._unscanned_len = 0
        self._redactor = redactor(pii=pii)
        self._leaks = LeakGuard(canary=canary or "", system_prompt=system_prompt)
        self._context_len = _CONTEXT
        self._released = 0  # raw characters released so far
        self._context = ""  # the last raw characters already emitted
        self._pending = ""  # raw text not emitted yet
        self._closed = False

    @property
    def pending(self) -> str:
        """The raw text held back so far (for tests and measurements)."""
        return self._pending + "".join(self._unscanned)

    def feed(self, chunk: str) -> str:
        """The text that is safe to show now (maybe empty)."""
        if self._interval > 0 and type(chunk) is str and not self._closed:
            # Collecting, the common case while coalescing: kept lean, as it runs
            # for every chunk.
            self._unscanned.append(chunk)
            self._unscanned_len += len(chunk)
            if (
                self._unscanned_len < self._batch
                and self._clock() - self._scanned_at < self._interval
            ):
                return ""
            return self._guarded(self._scan)
        return self._guarded(self._collect, chunk)

    def flush(self) -> str:
        """Scan what was collected and return what is safe to show now."""
        return self._guarded(self._scan)

    def flush_due_in(self) -> float | None:
        """Seconds until collected text should be scanned (`flush`), or None when
        nothing waits unscanned."""
        if not self._unscanned:
            return None
        return max(0.0, self._scanned_at + self._interval - self._clock())

    def finish(self) -> str:
        """The rest of the reply, redacted, at the end of the stream."""
        return self._guarded(self._finish)

    def _guarded(self, step: Callable[..., str], *args: str) -> str:
        # Fail closed: after any failure nothing more leaves this filter.
        if self._closed:
            raise BlockedOutput(detail="output filter already closed")
        try:
            return step(*args)
        except BlockedOutput:
            self._closed = True
            raise
        except Exception as exc:
            self._closed = True
            raise BlockedOutput(detail=f"output filter failed: {exc!r}") from exc

    def _collect(self, chunk: str) -> str:
        if not isinstance(chunk, str):
            raise TypeError(f"chunk must be str, not {type(chunk).__name__}")
        if not chunk:
            return ""
        self._unscanned.append(chunk)
        self._unscanned_len += len(chunk)
        if self._interval > 0 and self._unscanned_len < self._batch:
            if self._clock() - self._scanned_at < self._interval:
                return ""
        return self._scan()

    def _scan(self) -> str:
        if not self._unscanned:
            return ""
        chunk = "".join(self._unscanned)
        self._unscanned.clear()
        self._unscanned_len = 0
        if self._interval > 0:
            self._scanned_at = self._clock()
        return self._feed(chunk)

    def _feed(self, chunk: str) -> str:
        self._leaks.feed(chunk)
        if self._in_open_key(chunk):
            return ""
        text = self._context + self._pending + chunk
        begin = self._released - len(self._context)  # raw position of text[0]
        out, stop = self._drain(
            text, final=False, limit=self._leaks.held_from() - begin
        )
        self._released = begin + stop
        self._context = text[max(0, stop - self._context_len) : stop]
        self._pending = text[stop:]
        if len(self._pending) > MAX_HELD:
            raise RuntimeError(f"held back {len(self._pending)} characters")
        return out

    def _in_open_key(self, chunk: str) -> bool:
        """Whether the chunk only extends a private key held back so far: then it
        is kept without scanning the held text again (which made a long key cost
        the square of its length); the footer, a character no key body has, or the
        length bound ends the shortcut and the text is scanned once."""
        pending = self._pending
        if len(pending) < _OPEN_KEY_MIN or not pending.startswith("-----BEGIN"):
            return False
        if len(pending) + len(chunk) > MAX_SECRET_LEN:
            return False
        if _NOT_KEY_BODY.search(chunk) or "-----" in pending[-8:] + chunk:
            return False
        self._pending = pending + chunk
        return True

    def _finish(self) -> str:
        scanned = self._scan()
        self._leaks.finish()
        text = self._context + self._pending
        out, _ = self._drain(text, final=True)
        self._pending = ""
        self._closed = True
        return scanned + out

    def _drain(
        self, text: str, *, final: bool, limit: int | None = None
    ) -> tuple[str, int]:
        """The redacted text safe to emit from context + pending, and where the raw
        text still held back starts."""
        return scan(self._redactor, text, len(self._context), final=final, limit=limit)
