"""Views of a reply with light disguises undone, so a secret split by invisible
characters, Markdown markers, line wrapping or spaced-out letters still matches,
and a map from each view back to the original text, so what is shown keeps its
original characters and only the secret's own span is replaced.

Two views: the first drops what never belongs inside a token (zero-width and
soft-hyphen characters, `**`, `` ` `` or `~~` between token characters); the
second also joins wrapped lines after a long token and spaced-out letters. The
second is a separate view because joining lines can also hide a secret that ends
a line ("AKIA...\\nNext" must still match as written).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["View", "views"]

_TOKEN = "A-Za-z0-9_+/=.:~@\\-"
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff"
# Markdown emphasis, code and strike-through markers (a single `~` is a token
# character: Azure secrets have one).
_MARKER = "(?:[*`]{1,3}|~~)"
# Dropped in the first view. Each pattern here opens with a lookahead for the
# characters a match can start with: the engine then skips other positions fast
# (several times faster on prose than trying every alternative everywhere).
_NOISE = re.compile(
    f"(?=[{_INVISIBLE}*`~])"
    f"(?:[{_INVISIBLE}]+|(?<=[{_TOKEN}\"' ]){_MARKER}(?=[{_INVISIBLE}]* ?[{_TOKEN}])"
    f"|(?<=[{_TOKEN}]){_MARKER}(?=[\"']))"
)
# Dropped in the second view: a line break after a long token when the next line
# goes on with a random-looking token, and the spaces between spaced-out letters.
_WRAP = re.compile(
    f"(?=[ \\t\\r\\n])(?<=[{_TOKEN}\"'])[ \\t]*\\r?\\n[ \\t>]*(?=[{_TOKEN}])"
)
_SPACED = re.compile(
    f"(?=[{_TOKEN}] )(?<![^\\s\"'=:])"
    f"(?:[{_TOKEN}] {{1,3}}){{5,}}[{_TOKEN}](?![^\\s\"',;])"
)
_BLANKS = re.compile(" +")
# Trailing text the next chunk decides about: disguise characters; single
# characters with blanks between them (spaced-out letters may go on); a line break
# after a long token.
_TRAILING_NOISE = re.compile(
    f"[{_INVISIBLE}*`~]+[ \\t]*\\Z"
    f"|(?<![^\\s\"'=:])(?:[{_TOKEN}] {{1,3}})+[{_TOKEN}]?[{_INVISIBLE}*`~ \\t]*\\Z"
    f"|(?<=[{_TOKEN}\"'])[{_INVISIBLE}*`~\\s]*\\n[{_INVISIBLE}*`~\\s]*\\Z"
)


# Every character a trailing disguise (above) can hold: one starts after the
# last character not among them.
# (All lie in the Basic Multilingual Plane.)
_TRAILING_CHARS = "".join(
    re.findall(f"[\\s{_INVISIBLE}*`~{_TOKEN}]", "".join(map(chr, range(0x10000))))
)

# Any sign of a disguise: without one, the text is its only view.
_DISGUISED = re.compile(
    f"[{_INVISIBLE}*`~\\n]|(?<![^\\s\"'=:])[{_TOKEN}] [{_TOKEN}](?![^\\s\"',;])"
)


@dataclass(frozen=True)
class View:
    """A view of `raw[:covered]`; `index[i]` is where view character i came from."""

    text: str
    index: list[int] | None  # None: the view is the raw text itself
    covered: int  # raw text past this point is not decided yet (held back)

    def to_view(self, raw_pos: int) -> int:
        """The first view position at or after a raw position."""
        if self.index is None:
            return min(raw_pos, len(self.text))
        return bisect_left(self.index, raw_pos, 0, len(self.text))

    def start(self, view_pos: int) -> int:
        """The raw position of the view character at `view_pos`."""
        if self.index is None:
            return view_pos
        return self.index[view_pos] if view_pos < len(self.text) else self.covered

    def end(self, view_end: int) -> int:
        """The raw position just after the view character before `view_end`."""
        if self.index is None or view_end == 0:
            return view_end
        return self.index[view_end - 1] + 1


def _removals(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


_WORD = re.compile(f"[{_TOKEN}]+")


def _random_word(text: str, at: int) -> bool:
    """Whether a wrapped line goes on with what reads as the rest of a token (a
    digit, or a capital after a small letter; a card's four-digit group; or one
    word of 12 or more characters, as a lower-case token's second half), not with
    the next sentence. A wrong join costs nothing: only a rule's match in the
    joined view redacts."""
    word = _WORD.match(text, at)
    if word is not None and re.fullmatch("[0-9]{4}", word.group()):
        return True  # a group of a card number
    if word is None or len(word.group()) < 5:
        return False
    value = word.group()
    return (
        len(value) >= 12
        or any(c.isdigit() for c in value)
        or any(
            a.islower() and b.isupper() for a, b in zip(value, value[1:], strict=False)
        )
    )


def _spaced(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _SPACED.finditer(text):
        spans += [blanks.span() for blanks in _BLANKS.finditer(text, *match.span())]
    return spans


def _apply(raw: str, cuts: list[tuple[int, int]], covered: int) -> View:
    """The view of raw[:covered] without the cut spans."""
    parts: list[str] = []
    index: list[int] = []
    pos = 0
    for start, end in sorted(cuts):
        start, end = max(start, pos), min(end, covered)
        if start >= covered:
            break
        if end <= start:
            continue
        parts.append(raw[pos:start])
        index.extend(range(pos, start))
        pos = end
    parts.append(raw[pos:covered])
    index.extend(range(pos, covered))
    return View("".join(parts), index, covered)


def views(raw: str, *, final: bool) -> list[View]:
    """One or two views of the text; while streaming (not `final`), a trailing run
    of disguise characters is left out, as the next chunk decides what it is."""
    covered = len(raw)
    if not final:
        trailing = _TRAILING_NOISE.search(raw, len(raw.rstrip(_TRAILING_CHARS)))
        if trailing is not None:
            covered = trailing.start()
    if not _DISGUISED.search(raw):
        # Most text: nothing to undo, one view.
        return [View(raw[:covered], None, covered)]
    noise = _removals(raw, _NOISE)
    if not noise and covered == len(raw):
        first = View(raw, None, covered)
    else:
        first = _apply(raw, noise, covered)
    out = [first]
    wraps: list[tuple[int, int]] = []
    second_covered = covered
    for match in _WRAP.finditer(first.text):
        word = _WORD.match(first.text, match.end())
        if not final and word is not None and word.end() == len(first.text):
            # The next line's word may still grow into the rest of a token: the
            # second view stops before the line break, so the token's first part
            # ends that view and is held as a possible beginning.
            second_covered = first.start(match.start())
            break
        if _random_word(first.text, match.end()):
            wraps.append(match.span())
    spaced = _spaced(first.text) if " " in first.text else []
    if wraps or spaced or second_covered < covered:
        # Cuts in the first view's coordinates, mapped to raw spans.
        cuts = noise + [
            (first.start(a), first.end(b)) for a, b in sorted(wraps + spaced)
        ]
        out.append(_apply(raw, cuts, second_covered))
    return out
