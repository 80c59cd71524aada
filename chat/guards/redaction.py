"""Redaction of a reply over its disguise-free views (chat.guards.disguise): the
one scan that both the streaming filter and whole-text redaction run, so a reply
streamed in any chunks reads exactly as the whole reply redacted.

`scan` returns the redacted text that is final and where the raw text still held
back starts. In each view, a match is final when no unfinished match (one more
text could still change) starts at or before it; the held-back point is the
earliest unfinished start over all views, mapped back to the raw text. Matches of
the views are merged (a span found in either is replaced), and the text shown
between them is the original text.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.guards.disguise import views
from chat.guards.secrets import Redactor, redactor

__all__ = ["redact_reply", "scan"]


# How far back from a redacted match's end another secret's label may start.
LABEL_BACK = 24


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kept_end: int  # raw text [start, kept_end) is a label shown as written
    kind: str


def scan(
    rules: Redactor, raw: str, pos: int, *, final: bool, limit: int | None = None
) -> tuple[str, int]:
    """The redacted text of raw[pos:stop] and `stop`; with `limit`, nothing at
    or after it is released (a possible canary, say)."""
    stop = len(raw) if limit is None else limit
    spans: list[_Span] = []
    for view in views(raw, final=final):
        stop = min(stop, view.covered)
        text = view.text
        at = view.to_view(pos)
        unfinished = len(text) if final else rules.hold_start(text, at)
        # A match may start in the context already released: a rule that shows a
        # word's first characters (Redactor.word_keep), or a label inside a
        # released secret (a key running on into `aws_secret_access_key = `).
        back = max(rules.word_keep, LABEL_BACK)
        for match in rules.matches(text, view.to_view(max(0, pos - back))):
            if view.start(match.start()) < pos:
                decided = rules.decide(match) if match.end() > at else None
                if (
                    decided is not None
                    and view.start(match.start()) + decided[0] >= pos
                ):
                    if not final and match.end() >= len(text):
                        # Its value may still grow: hold everything after `pos`.
                        at = unfinished = view.to_view(pos)
                        break
                    spans.append(
                        _Span(
                            view.start(match.start()),
                            view.end(match.end()),
                            view.end(match.start() + decided[0]),
                            decided[1],
                        )
                    )
                    at = match.end()
                continue
            start = match.start()
            if start >= unfinished:
                break
            decided = rules.decide(match)
            if decided is not None:
                kept, kind = decided
                spans.append(
                    _Span(
                        view.start(start),
                        view.end(match.end()),
                        view.end(start + kept) if kept else view.start(start),
                        kind,
                    )
                )
            at = match.end()
            if decided is not None:
                # Its last characters may be the label of another secret (a key
                # swallowing "Bearer "): that one is redacted too, and while it
                # may still grow, neither is final.
                begin = max(start + 1, at - LABEL_BACK)
                mark = len(spans) - 1
                reached = _reaching(rules, view, begin, view.start(at), at, spans)
                last = at
                while last < reached < len(text):
                    # The reaching secret's own tail may hold a third label.
                    last, reached = (
                        reached,
                        _reaching(
                            rules,
                            view,
                            reached - LABEL_BACK,
                            view.start(reached),
                            reached,
                            spans,
                        ),
                    )
                if not final and (
                    (reached > at and reached >= len(text))
                    or (reached == at and rules.hold_start(text, begin) < at)
                ):
                    del spans[mark:]
                    at = unfinished = start
                    break
                at = reached
            if at > unfinished:
                unfinished = rules.hold_start(text, at)
        if not final:
            stop = min(stop, view.start(max(at, unfinished)))
    return _render(raw, pos, stop, spans)


def _reaching(
    rules: Redactor, view, begin: int, origin: int, at: int, spans: list[_Span]
) -> int:
    """Redact the first match from `begin` (in the view) that starts before
    `origin` (raw) and whose label reaches it; return where the view's text is
    decided up to (`at` when there is none)."""
    while True:
        match = next(rules.matches(view.text, begin), None)
        if match is None or view.start(match.start()) >= origin:
            return at
        if match.end() > at:
            decided = rules.decide(match)
            if decided is not None and view.start(match.start()) + decided[0] >= origin:
                spans.append(
                    _Span(
                        view.start(match.start()),
                        view.end(match.end()),
                        view.end(match.start() + decided[0]),
                        decided[1],
                    )
                )
                return match.end()
        begin = match.start() + 1


def _render(raw: str, pos: int, stop: int, spans: list[_Span]) -> tuple[str, int]:
    out: list[str] = []
    spans.sort(key=lambda span: (span.start, -span.end))
    current: _Span | None = None
    merged: list[_Span] = []
    for span in spans:
        if current is not None and span.start < current.end:
            if span.end > current.end and span.kept_end >= current.end:
                # Its label ends past the previous span: shown from there on,
                # as a stream that released the previous span shows it.
                merged.append(current)
                current = _Span(current.end, span.end, span.kept_end, span.kind)
                continue
            if span.end > current.end:
                current = _Span(current.start, span.end, current.kept_end, current.kind)
            continue
        if current is not None:
            merged.append(current)
        current = span
    if current is not None:
        merged.append(current)
    for span in merged:
        if span.kept_end < pos or (span.end <= pos):
            continue
        if span.start >= stop:
            break
        if span.end > stop:
            # Released only when all of it is final.
            stop = span.start
            break
        # A label (or a word's first characters) may have been released already.
        out.append(raw[pos : span.start])
        out.append(f"{raw[max(pos, span.start) : span.kept_end]}[REDACTED:{span.kind}]")
        pos = span.end
    stop = max(stop, pos)
    out.append(raw[pos:stop])
    return "".join(out), stop


def redact_reply(text: str, *, pii: bool = False) -> str:
    """The whole reply redacted, disguises included: what streaming it shows."""
    return scan(redactor(pii=pii), text, 0, final=True)[0]
