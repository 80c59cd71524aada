"""Markdown to safe HTML for replies: model output is untrusted.

The browser renders streamed text with the same engine and preset
(static/chat/markdown.js and math.js), so a reply does not change shape when the
`end` frame's HTML replaces it: markdown-it, CommonMark plus GFM tables and
strikethrough, linkify, single line breaks kept as in chat apps, raw HTML shown as
text, and math marked (never rendered) for KaTeX in the page. nh3 then enforces an
allow-list of tags, attributes and URL schemes. Images are dropped unless they are
inline data, so a reply cannot exfiltrate anything through an image URL.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul", "img", "span", "div", "s",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "img": {"src", "alt"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "span": {"class"},
    "div": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MATH_CLASSES = {"math math-inline", "math math-display"}

# The twin of static/chat/markdown.js: change both together.
PRESET = "commonmark"
OPTIONS = {"html": False, "linkify": True, "breaks": True, "typographer": False}
ENABLED_RULES = ["table", "strikethrough", "linkify"]
# Only links with a scheme (or www.) and e-mail addresses: "main.py" is no link.
LINKIFY = {"fuzzy_link": False, "fuzzy_email": True, "fuzzy_ip": False}

# Math delimiters as in static/chat/math.js: (open, close, display), in this order.
INLINE_MATH = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False))
BLOCK_MATH = (("$$", "$$"), ("\\[", "\\]"))


def _close_dollar(src: str, start: int, end: int) -> int:
    """The closing `$` of `$…$` from `start`, or -1 (pandoc's rules)."""
    if start >= end or src[start] in " \t\n":
        return -1
    pos = start
    while pos < end:
        char = src[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "$":
            if pos == start or src[pos - 1] in " \t\n":
                return -1
            if pos + 1 < end and src[pos + 1].isascii() and src[pos + 1].isdigit():
                return -1
            return pos
        pos += 1
    return -1


def _math_inline(state: StateInline, silent: bool) -> bool:
    src, pos, limit = state.src, state.pos, state.posMax
    if src[pos] not in "$\\":
        return False
    for open_, close, display in (*INLINE_MATH, ("$", "$", False)):
        if not src.startswith(open_, pos):
            continue
        start = pos + len(open_)
        if open_ == "$":
            end = _close_dollar(src, start, limit)
        else:
            end = src.find(close, start)
        if end < 0 or end + len(close) > limit:
            continue
        content = src[start:end]
        if not content.strip():
            continue
        if not silent:
            token = state.push("math_inline", "span", 0)
            token.content = content.strip()
            token.markup = open_
            token.meta = {"display": display}
        state.pos = end + len(close)
        return True
    return False


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool):
    pos = state.bMarks[start_line] + state.tShift[start_line]
    limit = state.eMarks[start_line]
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    found = [pair for pair in BLOCK_MATH if state.src.startswith(pair[0], pos)]
    if not found:
        return False
    open_, close = found[0]
    pos += len(open_)
    lines: list[str] = []
    line = start_line
    text = state.src[pos:limit]
    while True:
        at = text.find(close)
        if at >= 0:
            if text[at + len(close) :].strip():
                return False
            lines.append(text[:at])
            break
        lines.append(text)
        line += 1
        if line >= end_line or state.sCount[line] < state.blkIndent:
            return False
        begin = state.bMarks[line] + state.tShift[line]
        text = state.src[begin : state.eMarks[line]]
        if not text.strip():
            return False
    content = "\n".join(lines).strip()
    if not content:
        return False
    if silent:
        return True
    token = state.push("math_block", "div", 0)
    token.block = True
    token.content = content
    token.markup = open_
    token.map = [start_line, line + 1]
    state.line = line + 1
    return True


def _render_math_inline(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    kind = "math-display" if token.meta["display"] else "math-inline"
    return f'<span class="math {kind}">{escape(token.content, quote=False)}</span>'


def _render_math_block(self, tokens, idx, options, env) -> str:
    content = escape(tokens[idx].content, quote=False)
    return f'<div class="math math-display">{content}</div>\n'


def math_plugin(md: MarkdownIt) -> None:
    """Mark `$…$`, `\\(…\\)`, `$$…$$` and `\\[…\\]` as math for KaTeX in the page."""
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.block.ruler.before(
        "fence",
        "math_block",
        _math_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_block", _render_math_block)


def _align_cells(state) -> None:
    for token in state.tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        style = str(token.attrGet("style") or "")
        align = style.removeprefix("text-align:")
        if align not in ("left", "center", "right"):
            continue
        token.attrs.pop("style", None)
        token.attrSet("align", align)


def table_align_plugin(md: MarkdownIt) -> None:
    """Align table cells with `align`, not an inline style (the page's CSP has none)."""
    md.core.ruler.push("table_align", _align_cells)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = (
        MarkdownIt(PRESET, OPTIONS)
        .enable(ENABLED_RULES)
        .use(math_plugin)
        .use(table_align_plugin)
    )
    md.linkify.set(LINKIFY)
    return md


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.startswith("data:image/"):
        return None
    if tag == "a" and attribute == "href" and value.lower().startswith("data:"):
        return None
    if tag == "code" and attribute == "class" and not value.startswith("language-"):
        return None
    if tag in ("span", "div") and attribute == "class" and value not in MATH_CLASSES:
        return None
    return value


def render_markdown(text: str) -> str:
    """Sanitised HTML for a reply's Markdown."""
    html = _markdown().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES | {"data"},
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
