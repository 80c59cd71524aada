"""Input sanitising: what a user typed, made into plain text/Markdown that is safe
to store, show and send to a model.

The steps, cheapest first, so an oversized message never reaches the regexes:
a raw length cap; line endings; invisible characters (controls, format characters
such as zero-width and bidi overrides, private use, the tag block, variation
selectors used to smuggle bytes); HTML removed outside Markdown code (fenced
blocks and `inline code` are kept verbatim, so people can ask about HTML); runs of
blank lines collapsed; NFC; strip; the length limit.

The result is plain text, not HTML: it may still hold "<" and "&", so whatever
renders it must escape it (chat.rendering does).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator

import nh3

from chat.errors import InvalidInput, TooLong

__all__ = ["clean_user_text"]

# A raw message this many times over the limit is refused before any other work.
RAW_LIMIT_FACTOR = 4

_EMPTY = "Type a message first."
# Private-use stand-ins for "<" that begins no tag and for "&": the invisible-
# character pass removes private-use characters first, so they cannot collide.
_LT, _AMP = "\ue000", "\ue001"

_NEWLINES = re.compile("\r\n?|[\u2028\u2029\x85]")
_LINE_BREAKS = "\r\u2028\u2029\x85"
_JOINERS = re.compile("[\u200c\u200d]+")
_VARIATION_RUN = re.compile("([\ufe00-\ufe0f])[\ufe00-\ufe0f]+")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){3,}")
_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")
_BACKTICKS = re.compile(r"`+")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
# What HTML would take as markup: comments (to their end, or the end of the text),
# tags with a closing ">", doctype, CDATA and processing instructions. Any other "<"
# ("x<y", "<3", <https://autolinks>) is text and must survive.
_MARKUP = re.compile(
    r"<(?:!--|![A-Za-z\[]|\?|/?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?>)"
)
_CONTENT_DROPPED = {"script", "style", "template", "noscript"}
_MAX_HTML_PASSES = 4


def clean_user_text(text: str, *, max_chars: int) -> str:
    """The message as clean plain text, or InvalidInput / TooLong saying why not."""
    if not isinstance(text, str):
        raise InvalidInput(_EMPTY, detail=f"content is {type(text).__name__}")
    if len(text) > RAW_LIMIT_FACTOR * max_chars:
        raise _too_long(len(text), max_chars)
    if any(char in text for char in _LINE_BREAKS):  # rare: skip the regex scan
        text = _NEWLINES.sub("\n", text)
    text = _without_invisible(text)
    # Most messages hold no markup and no run of blank lines: nothing to change
    # outside code either, so no need to find where the code is.
    if ("<" in text and _MARKUP.search(text)) or _BLANK_LINES.search(text):
        text = "".join(_clean_segments(text))
    # Last, as removing a tag can bring a letter and a combining mark together.
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise InvalidInput(_EMPTY)
    if len(text) > max_chars:
        raise _too_long(len(text), max_chars)
    return text


def _too_long(length: int, max_chars: int) -> TooLong:
    return TooLong(
        f"Messages can be at most {max_chars:,} characters; this one has {length:,}."
    )


# Controls but tab and line feed: deleted from ASCII text's bytes in one C pass
# (a pattern would test every character).
_ASCII_CONTROLS = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])


def _class_ranges(spans: list[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(first)) + ("-" + re.escape(chr(last)) if last > first else "")
        for first, last in spans
    )


# Format characters (category Cf, Unicode 15: zero-width spaces, bidi controls, soft
# hyphen, word joiners, BOM, the tag block...) except the joiners U+200C/U+200D,
# which Persian, Indic scripts and emoji need (see _joiners). A test keeps this list
# in step with unicodedata.
_FORMAT_CHARACTERS = [
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200B), (0x200E, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
]  # fmt: skip
_INVISIBLE_RANGES = [
    (0x00, 0x08),
    (0x0B, 0x1F),
    (0x7F, 0x9F),  # controls, keeping \t and \n
    (0xD800, 0xDFFF),  # lone surrogates
    (0xE000, 0xF8FF),  # private use
    (0xE0000, 0xE007F),  # tags: invisible copies of ASCII
    (0xE0100, 0xE01EF),  # supplementary variation selectors
    (0xF0000, 0xFFFFD),  # private use planes
    (0x100000, 0x10FFFD),
    *_FORMAT_CHARACTERS,
]
_INVISIBLE = re.compile("[" + _class_ranges(_INVISIBLE_RANGES) + "]+")
# The same below U+10000: the engine tests such a class with a table lookup,
# not range by range, so text without astral characters is cleaned faster.
_INVISIBLE_BMP = re.compile(
    "[" + _class_ranges([r for r in _INVISIBLE_RANGES if r[1] <= 0xFFFF]) + "]+"
)


def _without_invisible(text: str) -> str:
    if text.isascii():
        return text.encode("ascii").translate(None, _ASCII_CONTROLS).decode("ascii")
    # UTF-16 takes two units for an astral character: a check in C.
    astral = len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)
    invisible = _INVISIBLE if astral else _INVISIBLE_BMP
    text = invisible.sub("", text)
    if "\u200c" in text or "\u200d" in text:
        text = _JOINERS.sub(_joiners, text)
    # One variation selector picks a glyph (text or emoji style); a run of them
    # after one character is how bytes are smuggled.
    return _VARIATION_RUN.sub(r"\1", text)


def _joiners(match: re.Match[str]) -> str:
    """Keep a single joiner between two visible characters, as in Persian words
    and emoji sequences; runs of joiners, or joiners at an edge, encode data."""
    text, start, end = match.string, match.start(), match.end()
    single = end - start == 1
    inside = 0 < start and end < len(text)
    if single and inside and not text[start - 1].isspace() and not text[end].isspace():
        return match.group()
    return ""


def _clean_segments(text: str) -> Iterator[str]:
    """The text with HTML removed and blank lines collapsed, outside code."""
    for is_code, segment in _fenced_blocks(text):
        if is_code:
            yield segment
            continue
        segment = _BLANK_LINES.sub("\n\n\n", segment)
        for paragraph in _PARAGRAPH_BREAK.split(segment):
            for is_inline_code, piece in _code_spans(paragraph):
                yield piece if is_inline_code else _without_html(piece)


def _fenced_blocks(text: str) -> Iterator[tuple[bool, str]]:
    """(is_code, segment) pairs: fenced code blocks (to their closing fence, or the
    end of the text, as in CommonMark) and the text between them."""
    lines = text.splitlines(keepends=True)
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None or (
            opening.group(1)[0] == "`" and "`" in lines[index][opening.end() :]
        ):
            prose.append(lines[index])
            index += 1
            continue
        if prose:
            yield False, "".join(prose)
            prose = []
        fence = opening.group(1)
        block = [lines[index]]
        index += 1
        while index < len(lines):
            line = lines[index]
            block.append(line)
            index += 1
            closing = _FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not line[closing.end() :].strip()
            ):
                break
        yield True, "".join(block)
    if prose:
        yield False, "".join(prose)


def _code_spans(paragraph: str) -> Iterator[tuple[bool, str]]:
    """(is_code, piece) pairs: each backtick run closes at the next run of the same
    length; a run with no partner is literal text."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(paragraph)]
    if len(runs) < 2:
        yield False, paragraph
        return
    # For each run, the index of the next run of the same length (linear time even
    # for thousands of unmatched backticks).
    following: list[int | None] = [None] * len(runs)
    last_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        following[index] = last_of_length.get(length)
        last_of_length[length] = index
    position = 0
    index = 0
    while index < len(runs):
        partner = following[index]
        if partner is None:
            index += 1
            continue
        start, end = runs[index][0], runs[partner][1]
        if start > position:
            yield False, paragraph[position:start]
        yield True, paragraph[start:end]
        position = end
        index = partner + 1
    if position < len(paragraph):
        yield False, paragraph[position:]


def _without_html(text: str) -> str:
    """Plain text: tags and comments removed, script and style content dropped,
    the text of other tags kept, and no HTML escaping left behind.

    Removing one tag can join its neighbours into another ("<scr<b>ipt>"), so this
    repeats until no markup is left; past a few rounds of such nesting the "<" of
    what remains is replaced by a full-width one, which nothing parses as markup.
    """
    for _ in range(_MAX_HTML_PASSES):
        if "<" not in text or not _MARKUP.search(text):
            return text
        text = _html_pass(text)
    return _MARKUP.sub(lambda match: "\uff1c" + match.group()[1:], text)


def _html_pass(text: str) -> str:
    protected: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        protected.append(text[position : match.start()].replace("<", _LT))
        protected.append(match.group())
        position = match.end()
    protected.append(text[position:].replace("<", _LT))
    # With every "&" hidden, each entity in nh3's output is one nh3 wrote: undoing
    # them all gives back exactly the characters the person typed.
    source = "".join(protected).replace("&", _AMP)
    cleaned = nh3.clean(
        source,
        tags=set(),
        clean_content_tags=_CONTENT_DROPPED,
        strip_comments=True,
    )
    return html.unescape(cleaned).replace(_LT, "<").replace(_AMP, "&")
