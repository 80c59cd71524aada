"""The system prompt stays private: a streaming check that stops a reply which
reproduces the turn's canary or any long span of the operator's system prompt,
before any of that span reaches the socket.

The reply is read through a normalised view: compatibility forms, no accents,
case-folded, common Cyrillic and Greek look-alikes mapped to Latin letters, and
only letters and digits kept, so spacing, punctuation and case do not hide a
match. In that view:

- the canary (and its reversal, and its hex spelling) is searched as a string;
- the system prompt is cut into overlapping windows of GRAM characters (forwards
  and reversed); a reply window equal to one of them is a leak. GRAM is chosen so
  that any 40 characters of ordinary prose hold a whole window;
- runs of hex digits and of base64 are decoded as they grow, and the decoded
  text goes through the same checks.

Holding back: the filter asks `held_from()` where the raw text must stop being
released: the start of the longest tail of the view that could still grow into a
match (a prefix of the canary, a substring of the system prompt of at least
_HOLD_MIN characters), or of an encoded run still being read. Ordinary text that
shares nothing long with the prompt is held no more than before.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

from chat.errors import BlockedOutput

__all__ = ["ENCODED_MAX", "GRAM", "LeakGuard", "normalise"]

# Window length in normalised characters: 40 characters of prose hold about 33.
GRAM = 28
# A tail shared with the system prompt is held once it is this long: shorter ones
# ("the", "hel") are everywhere, and at most this much of a span shows before its
# window completes and stops the reply.
_HOLD_MIN = 8
# Encoded runs shorter than this are read as words, not decoded.
_ENCODED_MIN = 16
# An encoded run longer than this is decoded in its last part only.
ENCODED_MAX = 8192

_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h",
        "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i",
        "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ı": "i",
        "ɩ": "i", "ʟ": "l", "ǀ": "l",
    }
)  # fmt: skip
_HEX = frozenset("0123456789abcdef")
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]")

LEAK_MESSAGE = (
    "The reply was stopped because it began to reveal the assistant's "
    "confidential instructions."
)


def _fold(char: str) -> str:
    """One raw character as normalised letters and digits (maybe none, maybe
    several)."""
    if char.isascii():
        return char.lower() if char.isalnum() else ""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c for c in text.casefold().translate(_CONFUSABLES) if c.isalnum())


def normalise(text: str) -> str:
    """The normalised view of a text (letters and digits, folded)."""
    return "".join(_fold(char) for char in text)


class _Decoded:
    """Text decoded from an encoded run, checked as it grows."""

    def __init__(self) -> None:
        self.norm = ""
        self.done = 0  # characters of the run decoded so far (base64)
        self.pending = b""  # bytes of an unfinished UTF-8 character (hex)

    def add(self, raw: bytes) -> str:
        text = raw.decode("utf-8", errors="ignore")
        new = normalise(text)
        self.norm = (self.norm + new)[-4 * GRAM :]
        return new


class LeakGuard:
    """Checks one reply's raw text, chunk by chunk; raises BlockedOutput on a leak."""

    def __init__(self, *, canary: str = "", system_prompt: str = "") -> None:
        canary_n = normalise(canary)
        needles = {canary_n, canary_n[::-1], canary.encode().hex()} if canary else set()
        self._needles = tuple(n for n in needles if len(n) >= 8)
        prompt = normalise(system_prompt)
        self._prompt = prompt
        self._prompt_reversed = prompt[::-1]
        self._grams = frozenset(
            window[i : i + GRAM]
            for window in (prompt, self._prompt_reversed)
            for i in range(len(window) - GRAM + 1)
        )
        self._longest = max([GRAM, *map(len, self._needles)])
        self._norm = ""  # the normalised view's tail
        self._where: list[int] = []  # raw position of each character of _norm
        self._raw = 0  # raw characters read
        # Encoded runs: where the current run starts (raw), and its decoders.
        self._b64_start = 0
        self._b64_text = ""
        self._b64 = _Decoded()
        self._hex_text = ""  # the current run of hex digits in the view
        self._hex_start = 0  # raw position where it starts
        self._hex = (_Decoded(), _Decoded())

    def feed(self, chunk: str) -> None:
        """Read a chunk; BlockedOutput if the text so far leaks."""
        added = 0
        for offset, char in enumerate(chunk):
            folded = _fold(char)
            for piece in folded:
                self._norm += piece
                self._where.append(self._raw + offset)
                added += 1
                self._read_hex(piece, self._raw + offset)
            self._read_base64(char, self._raw + offset)
        self._raw += len(chunk)
        if added:
            self._check(self._norm, added)
            keep = 2 * self._longest
            if len(self._norm) > keep:
                self._norm = self._norm[-keep:]
                self._where = self._where[-keep:]

    def finish(self) -> None:
        """The end of the reply: encoded runs are complete."""
        self._flush_base64(final=True)

    def held_from(self) -> int:
        """The raw position from which text must not be released yet."""
        held = self._raw
        norm = self._norm
        if norm:
            start = self._growable(norm)
            if start < len(norm):
                held = self._where[start]
        if len(self._b64_text) >= _ENCODED_MIN:
            held = min(held, self._b64_start)
        if len(self._hex_text) >= _ENCODED_MIN:
            held = min(held, self._hex_start)
        return held

    # --- checks ---------------------------------------------------------------

    def _check(self, norm: str, added: int) -> None:
        for needle in self._needles:
            if needle in norm[-(added + len(needle) - 1) :]:
                raise BlockedOutput(
                    LEAK_MESSAGE, detail="the reply contained the canary"
                )
        if self._grams:
            grams = self._grams
            first = max(GRAM, len(norm) - added + 1)
            for end in range(first, len(norm) + 1):
                if norm[end - GRAM : end] in grams:
                    raise BlockedOutput(
                        LEAK_MESSAGE, detail="the reply reproduced the system prompt"
                    )

    def _growable(self, norm: str) -> int:
        """The start of the longest tail of the view that more text could turn into
        a match: a prefix of a needle, or a substring of the system prompt."""
        start = len(norm)
        for needle in self._needles:
            begin = max(0, len(norm) - len(needle) + 1)
            at = norm.find(needle[0], begin)
            while at != -1:
                if needle.startswith(norm[at:]):
                    start = min(start, at)
                    break
                at = norm.find(needle[0], at + 1)
        if self._grams:
            # "norm[p:] is a substring" holds for every p past the first that
            # holds, so the first is found by bisection.
            low, high = max(0, len(norm) - GRAM + 1), len(norm)
            while low < high:
                middle = (low + high) // 2
                tail = norm[middle:]
                if tail in self._prompt or tail in self._prompt_reversed:
                    high = middle
                else:
                    low = middle + 1
            if len(norm) - low >= _HOLD_MIN:
                start = min(start, low)
        return start

    # --- encoded runs ---------------------------------------------------------

    def _read_base64(self, char: str, position: int) -> None:
        if _BASE64.match(char):
            if not self._b64_text:
                self._b64_start = position
                self._b64 = _Decoded()
            self._b64_text += char
            if len(self._b64_text) >= _ENCODED_MIN:
                self._flush_base64(final=False)
        elif self._b64_text:
            self._flush_base64(final=True)
            self._b64_text = ""

    def _flush_base64(self, *, final: bool) -> None:
        text = self._b64_text
        if len(text) < _ENCODED_MIN:
            return
        done = self._b64.done
        usable = len(text) if final else len(text) // 4 * 4
        if usable <= done:
            return
        piece = text[done:usable].rstrip("=")
        piece += "=" * (-len(piece) % 4)
        altchars = b"-_" if ("-" in piece or "_" in piece) else None
        try:
            raw = base64.b64decode(piece, altchars=altchars)
        except (binascii.Error, ValueError):
            raw = b""
        self._b64.done = usable
        added = self._b64.add(raw)
        if added:
            self._check(self._b64.norm, len(added))
        if len(text) > ENCODED_MAX:
            self._b64_text = ""

    def _read_hex(self, piece: str, position: int) -> None:
        if piece in _HEX:
            if not self._hex_text:
                self._hex_start = position
                self._hex = (_Decoded(), _Decoded())
            self._hex_text += piece
            text = self._hex_text
            # Each alignment decodes a new byte when its pair completes.
            for align, decoded in enumerate(self._hex):
                if len(text) > align and (len(text) - align) % 2 == 0:
                    try:
                        byte = bytes.fromhex(text[-2:])
                    except ValueError:
                        continue
                    pending = decoded.pending + byte
                    try:
                        chunk = pending.decode("utf-8")
                        decoded.pending = b""
                    except UnicodeDecodeError:
                        decoded.pending = pending[-3:]
                        continue
                    added = decoded.add(chunk.encode())
                    if added:
                        self._check(decoded.norm, len(added))
            if len(text) > ENCODED_MAX:
                self._hex_text = ""
        else:
            self._hex_text = ""
