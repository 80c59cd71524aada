"""Snippets as safe HTML: the engine marks matches with two control characters
(which HTML never needs), the text between them is escaped, then the marks
become <mark> elements: escape, then mark. A snippet reads as one line of plain
text: Markdown's emphasis, code and heading marks are left out."""

from __future__ import annotations

import re

from django.utils.html import escape

START, STOP = "\x02", "\x03"
_MARKDOWN = re.compile(r"(?m)\*+|`+|(?<!\w)_{1,3}|_{1,3}(?!\w)|^\s*#{1,6}\s+")
_SPACE = re.compile(r"\s+")


def marked_html(snippet: str) -> str:
    """The engine's marked snippet as HTML whose only elements are <mark>s."""
    out, open_ = [], False
    for char_run in _runs(snippet):
        if char_run == START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif char_run == STOP:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(escape(_SPACE.sub(" ", _MARKDOWN.sub("", char_run))))
    if open_:
        out.append("</mark>")
    return "".join(out)


def _runs(snippet: str):
    """The snippet as text runs and single mark characters, in order."""
    run = []
    for char in snippet:
        if char in (START, STOP):
            if run:
                yield "".join(run)
                run = []
            yield char
        else:
            run.append(char)
    if run:
        yield "".join(run)
