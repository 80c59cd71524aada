"""Titles as plain text: the first line of a message with its Markdown taken off,
and a model's answer cleaned into one short line. Pure functions."""

from __future__ import annotations

import re

TITLE_CHARS = 60

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# Quote marks, then a heading, a list item (a task's box too) or a number.
_LINE_PREFIX = re.compile(
    r"^\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)?"
)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`+([^`]*)`+")
_LABEL = re.compile(r"^(?:title|titre|título|titel|titolo)\s*[:：-]\s*", re.IGNORECASE)
_QUOTES = "\"'`«»“”„‘’‚「」『』"


def plain_line(line: str) -> str:
    """One line of Markdown as the text a reader sees."""
    text = _LINE_PREFIX.sub("", line)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _CODE.sub(r"\1", text)
    for _ in range(3):  # nested emphasis, ***bold italic*** and the like
        text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("\\", "")
    return " ".join(text.split())


def cut_at_word(text: str, limit: int = TITLE_CHARS) -> str:
    """At most `limit` characters, ending at a word with "…" when cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 3:
        head = head[:space]
    return head.rstrip(" ,;:.-–—") + "…"


def fallback_title(content: str) -> str:
    """The first line of a message that has words, its Markdown stripped, cut at a
    word. A code fence is never the title: the first line of prose is, else the
    first line of code."""
    prose, code = [], []
    in_code = False
    for line in content.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        (code if in_code else prose).append(line)
    for lines in (prose, code):
        for line in lines:
            text = plain_line(line) if lines is prose else " ".join(line.split())
            if text:
                return cut_at_word(text)
    return ""


def clean_title(answer: str) -> str:
    """A model's answer as a title: its first line with words, with no Markdown,
    label, quotes or final period; "" when nothing is left."""
    for line in answer.splitlines():
        if _FENCE.match(line):
            continue
        text = _LABEL.sub("", plain_line(line))
        text = text.strip(_QUOTES + " ").rstrip(".:;,。").strip(_QUOTES + " ")
        if text:
            return cut_at_word(text)
    return ""
