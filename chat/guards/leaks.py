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
import functools
import re
import unicodedata

import ahocorasick_rs

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
_B64 = "A-Za-z0-9+/=_-"
_BASE64_RUN = re.compile(f"[{_B64}]+")
_BASE64_LONG = re.compile(f"(?<![{_B64}])[{_B64}]{{{_ENCODED_MIN},}}")
_BASE64_TAIL = re.compile(f"(?<![{_B64}])[{_B64}]+\\Z")
# Base64 is decoded in blocks of this many characters (a multiple of 4).
_B64_BLOCK = 64
_HEX_RUN = re.compile("[0-9a-f]+")
_HEX_LONG = re.compile(f"(?<![0-9a-f])[0-9a-f]{{{_ENCODED_MIN},}}")
_HEX_TAIL = re.compile("(?<![0-9a-f])[0-9a-f]+\\Z")
_NOT_ALNUM = re.compile("[^A-Za-z0-9]+")
_NON_ASCII = re.compile("[^\\x00-\\x7f]+")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

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


def _fold_ascii(text: str, base: int) -> tuple[str, list[int]]:
    return _NOT_ALNUM.sub("", text).lower(), [
        at for at, char in enumerate(text, base) if char in _ALNUM
    ]


def _fold_chunk(chunk: str, base: int) -> tuple[str, list[int]]:
    """A chunk's normalised characters and the raw position of each; ASCII is
    folded a whole stretch at a time (per-character Python work is the cost)."""
    if chunk.isascii():
        return _fold_ascii(chunk, base)
    parts: list[str] = []
    where: list[int] = []
    at = 0
    for match in _NON_ASCII.finditer(chunk):
        text, positions = _fold_ascii(chunk[at : match.start()], base + at)
        parts.append(text)
        where += positions
        for offset, char in enumerate(match.group(), base + match.start()):
            folded = _fold(char)
            parts.append(folded)
            where += [offset] * len(folded)
        at = match.end()
    text, positions = _fold_ascii(chunk[at:], base + at)
    parts.append(text)
    where += positions
    return "".join(parts), where


def normalise(text: str) -> str:
    """The normalised view of a text (letters and digits, folded)."""
    return "".join(_fold(char) for char in text)


def _decode_base64(text: str) -> bytes:
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        return base64.b64decode(text, altchars=altchars)
    except (binascii.Error, ValueError):
        return b""


@functools.lru_cache(maxsize=8)
def _windows(prompt: str) -> ahocorasick_rs.AhoCorasick | None:
    """An automaton that finds any of the prompt's windows of GRAM characters,
    forwards or reversed (None: the prompt is shorter than a window). Built once
    per prompt: each reply is checked against the same operator prompt."""
    windows = {
        text[i : i + GRAM]
        for text in (prompt, prompt[::-1])
        for i in range(len(text) - GRAM + 1)
    }
    if not windows:
        return None
    return ahocorasick_rs.AhoCorasick(windows)


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
        self._grams = _windows(prompt)
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
        base = self._raw
        new, where = _fold_chunk(chunk, base)
        self._read_hex_runs(new, where)
        self._read_base64_runs(chunk, base)
        self._raw += len(chunk)
        if new:
            self._norm += new
            self._where += where
            self._check(self._norm, len(new))
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
        if self._grams is not None and len(norm) >= GRAM:
            # Every new window, in one pass of the prompt's windows' automaton.
            new = norm[max(0, len(norm) - added - GRAM + 1) :]
            if self._grams.find_matches_as_indexes(new):
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
        if self._grams is not None:
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

    def _read_base64_runs(self, chunk: str, base: int) -> None:
        """Follow runs of base64 characters: the open run goes on or ends, runs
        long enough to decode are read, and a run ending the chunk stays open.
        Shorter runs (words) are never decoded, so they are not looked at."""
        pos = 0
        if self._b64_text:
            lead = _BASE64_RUN.match(chunk)
            if lead is not None:
                self._grow_base64(lead.group(), base)
                pos = lead.end()
                if pos == len(chunk):
                    return
            self._end_base64()
        for match in _BASE64_LONG.finditer(chunk, pos):
            self._grow_base64(match.group(), base + match.start())
            pos = match.end()
            if pos < len(chunk):
                self._end_base64()
        tail = _BASE64_TAIL.search(chunk, pos)
        if tail is not None and not self._b64_text:
            self._grow_base64(tail.group(), base + tail.start())

    def _grow_base64(self, run: str, position: int) -> None:
        """Add a stretch of the current run. It is decoded in blocks of
        _B64_BLOCK characters counted from the run's start (and when it ends),
        so what is decoded does not depend on how the reply was split; the open
        run is held back (`held_from`) until it has been checked."""
        while run:
            if not self._b64_text:
                self._b64_start = position
                self._b64 = _Decoded()
            size = len(self._b64_text)
            take = min(len(run), _B64_BLOCK - size % _B64_BLOCK, ENCODED_MAX + 1 - size)
            self._b64_text += run[:take]
            size += take
            if size >= _ENCODED_MIN and (size % _B64_BLOCK == 0 or size > ENCODED_MAX):
                self._flush_base64(final=False)
            run, position = run[take:], position + take

    def _end_base64(self) -> None:
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
        piece = text[done:usable]
        if "=" in piece.rstrip("="):
            # Padding inside: each group of four is decoded on its own.
            groups = [piece[i : i + 4] for i in range(0, len(piece), 4)]
        else:
            # A last group of fewer than four characters would spoil the rest.
            whole = len(piece) // 4 * 4
            groups = [piece[:whole], piece[whole:]]
        raw = b"".join(map(_decode_base64, groups))
        self._b64.done = usable
        added = self._b64.add(raw)
        if added:
            self._check(self._b64.norm, len(added))
        if len(text) > ENCODED_MAX:
            self._b64_text = ""

    def _read_hex_runs(self, new: str, where: list[int]) -> None:
        """Follow runs of hex digits in the normalised view, as base64 runs are
        followed (`_read_base64_runs`)."""
        if not new:
            return
        pos = 0
        if self._hex_text:
            lead = _HEX_RUN.match(new)
            if lead is not None:
                self._grow_hex(lead.group(), where, 0)
                pos = lead.end()
                if pos == len(new):
                    return
            self._hex_text = ""
        for match in _HEX_LONG.finditer(new, pos):
            self._grow_hex(match.group(), where, match.start())
            pos = match.end()
            if pos < len(new):
                self._hex_text = ""
        tail = _HEX_TAIL.search(new, pos)
        if tail is not None and not self._hex_text:
            self._grow_hex(tail.group(), where, tail.start())

    def _grow_hex(self, run: str, where: list[int], offset: int) -> None:
        """Add a stretch of the current hex run (starting at `offset` of the new
        normalised text). A run shorter than _ENCODED_MIN is only collected; once
        it reaches that length it is decoded from its start, digit by digit."""
        text = self._hex_text
        if len(text) + len(run) < _ENCODED_MIN:
            if not text:
                self._hex_start = where[offset]
            self._hex_text = text + run
            return
        positions = where[offset : offset + len(run)]
        if len(text) < _ENCODED_MIN:
            # Not decoded yet: read the run again from its first digit.
            positions = [self._hex_start] * len(text) + positions
            self._hex_text = ""
            run = text + run
        for piece, position in zip(run, positions, strict=True):
            self._read_hex(piece, position)

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
