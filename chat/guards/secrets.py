"""Patterns for secrets (and optionally personal data) and the redaction they drive.

Used by the streaming output filter and by the logging filter, so it is pure,
compiled once and fast. Each rule is a first character and a sequence of pieces;
each piece has its regex and a "partial" regex matching any prefix of what the piece
can read. From those we build, per mode, the combined pattern that redacts and a
hold pattern that finds an unfinished match at the end of a text: that is how the
streaming filter knows how much of its tail to hold back (see `output_filter`).

Speed: every secret rule starts with a literal character and checks what precedes
the match only after it (`x(?<![...].)`), so the regex engine can skip straight to
candidate characters; a log line costs a few microseconds. The PII rules start with
character classes, which costs the optimisation: redacting PII is for replies only.

Every rule is bounded in length (`MAX_SECRET_LEN`), so the hold-back is bounded; a
token longer than its rule's bound is redacted up to the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KINDS", "MAX_SECRET_LEN", "Redactor", "redact", "redactor"]


@dataclass(frozen=True)
class _Piece:
    regex: str
    # Matches every prefix of anything `regex` can read, lookaheads included; may
    # match more (holding back too much costs latency, never correctness).
    partial: str


def _lit(text: str, *, nocase: bool = False) -> _Piece:
    partial = ""
    for char in reversed(text):
        partial = f"(?:{re.escape(char)}{partial})?"
    if nocase:
        return _Piece(f"(?i:{re.escape(text)})", f"(?i:{partial})")
    return _Piece(re.escape(text), partial)


def _alts(*texts: str) -> _Piece:
    regex = "|".join(re.escape(text) for text in texts)
    partial = "|".join(_lit(text).partial for text in texts)
    return _Piece(f"(?:{regex})", f"(?:{partial})")


def _run(chars: str, low: int, high: int) -> _Piece:
    return _Piece(f"[{chars}]{{{low},{high}}}", f"[{chars}]{{0,{high}}}")


def _raw(regex: str, partial: str) -> _Piece:
    return _Piece(regex, partial)


def _not_after(chars: str) -> str:
    """Placed after the first character: the match must start a run of `chars`."""
    return f"(?<![{chars}].)"


@dataclass(frozen=True)
class _Rule:
    kind: str
    # Each entry (a literal character, or a class for the PII rules) starts a branch.
    first: tuple[str, ...]
    after: str  # a lookbehind checked right after the first character
    keep: tuple[_Piece, ...]  # matched and kept as written (labels, user names)
    secret: tuple[_Piece, ...]  # replaced by the marker
    pii: bool = False

    def _branches(self, rest: str) -> str:
        return "|".join(f"{first}{self.after}{rest}" for first in self.first)

    @property
    def regex(self) -> str:
        keep = "".join(piece.regex for piece in self.keep)
        secret = "".join(piece.regex for piece in self.secret)
        return self._branches(keep + secret)

    @property
    def grouped(self) -> str:
        """The rule alone, with the kept prefix (maybe empty) as a group."""
        keep = "".join(piece.regex for piece in self.keep)
        secret = "".join(piece.regex for piece in self.secret)
        if not keep:
            return "|".join(f"(){first}{self.after}{secret}" for first in self.first)
        return "|".join(f"({first}{self.after}{keep}){secret}" for first in self.first)

    @property
    def partial(self) -> str:
        """Prefixes of a match: each piece's partial after all earlier pieces."""
        pieces = self.keep + self.secret
        terms = [
            "".join(p.regex for p in pieces[:i]) + piece.partial
            for i, piece in enumerate(pieces)
        ]
        return "|".join(self._branches(f"(?:{term})") for term in terms)


_TOKEN = "A-Za-z0-9_-"
_HTTP_TOKEN = "A-Za-z0-9._~+/=-"
_PEM_BODY = "A-Za-z0-9+/=\\s:,."
_PEM_BODY_MAX = 16384
_PEM_HEADER = "[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_PEM_HEADER_PARTIAL = "[ A-Z0-9]{0,57}-{0,5}"
# The last seven digits of a North American number: 555-0100.
_US_LOCAL = (
    _run("0-9", 3, 3),
    _run("-. ", 1, 1),
    _run("0-9", 4, 4),
    _raw("(?![0-9])", ""),
)
_LABEL_SEPARATOR = _raw("[\"']?[ \\t]{0,8}[:=][ \\t]{0,8}[\"']?", "[\"' \\t:=]{0,19}")

_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key",
        ("-",),
        "",
        (),
        (
            _lit("----BEGIN"),
            _raw(_PEM_HEADER, _PEM_HEADER_PARTIAL),
            # The body stops at the footer's dashes; without a footer (a truncated
            # key) it runs on through key-like characters, up to the bound.
            _raw(
                f"(?:[{_PEM_BODY}]|-(?!----)){{0,{_PEM_BODY_MAX}}}",
                f"[{_PEM_BODY}-]{{0,{_PEM_BODY_MAX + 4}}}",
            ),
            _raw(
                f"(?:-----END{_PEM_HEADER})?",
                f"(?:-----END{_PEM_HEADER_PARTIAL}|{_lit('-----END').partial})",
            ),
        ),
    ),
    _Rule(
        "jwt",
        ("e",),
        _not_after(_TOKEN),
        (),
        (
            _lit("yJ"),
            _run(_TOKEN, 8, 4096),
            _lit(".eyJ"),
            _run(_TOKEN, 8, 8192),
            _raw(f"(?:\\.[{_TOKEN}]{{8,2048}})?", f"(?:\\.[{_TOKEN}]{{0,2048}})?"),
        ),
    ),
    _Rule(
        "anthropic_key",
        ("s",),
        _not_after(_TOKEN),
        (),
        (_lit("k-ant-"), _run(_TOKEN, 20, 256)),
    ),
    _Rule(
        "openai_key",
        ("s",),
        _not_after(_TOKEN),
        (),
        (
            _lit("k-"),
            # A digit somewhere keeps prose like "sk-learn-compatible-..." out.
            _raw(f"(?=[{_TOKEN}]{{0,255}}[0-9])", f"[{_TOKEN}]{{0,256}}"),
            _run(_TOKEN, 20, 256),
        ),
    ),
    _Rule(
        "stripe_key",
        ("s", "r"),
        _not_after(_TOKEN),
        (),
        (_alts("k_live_", "k_test_"), _run("A-Za-z0-9", 16, 256)),
    ),
    _Rule(
        "google_api_key",
        ("A",),
        _not_after(_TOKEN),
        (),
        (_lit("Iza"), _run(_TOKEN, 35, 35)),
    ),
    _Rule(
        "aws_access_key_id",
        ("A",),
        _not_after("A-Za-z0-9"),
        (),
        (_alts("KIA", "SIA"), _run("A-Z0-9", 16, 16), _raw("(?![A-Za-z0-9])", "")),
    ),
    _Rule(
        "github_token",
        ("g",),
        _not_after(_TOKEN),
        (),
        (_raw("h[pousr]_", "(?:h(?:[pousr]_?)?)?"), _run("A-Za-z0-9", 36, 255)),
    ),
    _Rule(
        "github_token",
        ("g",),
        _not_after(_TOKEN),
        (),
        (_lit("ithub_pat_"), _run("A-Za-z0-9_", 22, 255)),
    ),
    _Rule(
        "slack_token",
        ("x",),
        _not_after(_TOKEN),
        (),
        (
            _raw("ox[abeoprs]-", "(?:o(?:x(?:[abeoprs]-?)?)?)?"),
            _run("A-Za-z0-9-", 10, 255),
        ),
    ),
    _Rule(
        "aws_secret_key",
        ("a", "A"),
        _not_after("A-Za-z0-9_"),
        (
            _raw("(?i:ws_?secret(?:_?access)?(?:_?key)?)", "(?i:[a-z_]{0,23})"),
            _LABEL_SEPARATOR,
        ),
        (_run("A-Za-z0-9/+=", 40, 40), _raw("(?![A-Za-z0-9/+=])", "")),
    ),
    _Rule(
        "aws_secret_key",
        ("s", "S"),
        _not_after("A-Za-z0-9_"),
        (_raw("(?i:ecret_?access_?key)", "(?i:[a-z_]{0,16})"), _LABEL_SEPARATOR),
        (_run("A-Za-z0-9/+=", 40, 40), _raw("(?![A-Za-z0-9/+=])", "")),
    ),
    _Rule(
        "bearer",
        ("a", "A"),
        _not_after("A-Za-z0-9_"),
        (
            _lit("uthorization", nocase=True),
            _raw(
                "[\"']?[ \\t]{0,8}[:=][ \\t]{0,8}[\"']?"
                "(?i:bearer|basic|token|digest|apikey)[ \\t]{1,8}",
                "[\"' \\t:=A-Za-z]{0,40}",
            ),
        ),
        (_run(_HTTP_TOKEN, 8, 4096),),
    ),
    _Rule(
        "bearer",
        ("b", "B"),
        _not_after("A-Za-z0-9_"),
        (_lit("earer", nocase=True), _run(" \\t", 1, 8)),
        (
            # A digit somewhere keeps prose like "bearer authentication/..." out.
            _raw(f"(?=[{_HTTP_TOKEN}]{{0,4095}}[0-9])", f"[{_HTTP_TOKEN}]{{0,4096}}"),
            _run(_HTTP_TOKEN, 16, 4096),
        ),
    ),
    _Rule(
        "password",
        (":",),
        # scheme://user:password@host -- the match starts after the scheme.
        "(?<=[A-Za-z0-9+.-]:)",
        (_lit("//"), _run("^\\s:/?#@\\[\\]", 0, 256), _lit(":")),
        # The last "@" before the path ends the password, so "p@ss" is caught whole.
        (_run("^\\s/?#", 1, 256), _raw("(?=@)", "")),
    ),
    _Rule(
        "email",
        ("[A-Za-z0-9._%+-]",),
        _not_after("A-Za-z0-9._%+-"),
        (),
        (
            _run("A-Za-z0-9._%+-", 0, 63),
            _lit("@"),
            _raw(
                "(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}",
                "[A-Za-z0-9.-]{0,600}",
            ),
        ),
        pii=True,
    ),
    _Rule(
        "phone",
        ("\\+",),
        _not_after("A-Za-z0-9_+"),
        (),
        (
            _raw(
                # At least 8 digits, with at most two separators between digits.
                "(?=(?:[ .()-]{0,2}[0-9]){8})"
                "[1-9][0-9]{0,3}(?:[ .-]?\\(?[0-9]{1,5}\\)?){1,6}(?![0-9])",
                "[0-9 .()-]{0,60}",
            ),
        ),
        pii=True,
    ),
    # North American style, 3-3-4 digits with separators, so plain numbers, years
    # and ids are never taken for phone numbers. One rule per shape keeps each a
    # plain sequence, so the hold-back is exact: "on 12 March" holds nothing.
    _Rule(
        "phone",
        ("1",),
        _not_after("A-Za-z0-9_+.-"),
        (),
        (
            _run("-. ", 1, 1),
            _lit("("),
            _run("0-9", 3, 3),
            _lit(")"),
            _run(" ", 0, 1),
            *_US_LOCAL,
        ),
        pii=True,
    ),
    _Rule(
        "phone",
        ("1",),
        _not_after("A-Za-z0-9_+.-"),
        (),
        (_run("-. ", 1, 1), _run("0-9", 3, 3), _run("-. ", 1, 1), *_US_LOCAL),
        pii=True,
    ),
    _Rule(
        "phone",
        ("\\(",),
        _not_after("A-Za-z0-9_+.-"),
        (),
        (_run("0-9", 3, 3), _lit(")"), _run(" ", 0, 1), *_US_LOCAL),
        pii=True,
    ),
    _Rule(
        "phone",
        ("[0-9]",),
        _not_after("A-Za-z0-9_+.-"),
        (),
        (_run("0-9", 2, 2), _run("-. ", 1, 1), *_US_LOCAL),
        pii=True,
    ),
)

KINDS = frozenset(rule.kind for rule in _RULES)

# The longest text any rule can match or read ahead (the PEM body dominates): the
# streaming filter never holds back more than this.
MAX_SECRET_LEN = 16_600


@dataclass(frozen=True)
class Redactor:
    """The compiled patterns of one mode (with or without personal data)."""

    pattern: re.Pattern[str]
    # Finds the earliest start of a possibly unfinished match ending the text.
    hold: re.Pattern[str]
    # Each rule alone, in the combined pattern's order, with its kept prefix.
    rules: tuple[tuple[str, re.Pattern[str]], ...]

    def replacement(self, match: re.Match[str]) -> str:
        """The marker for a match of `pattern`, after any prefix the rule keeps."""
        text, start, end = match.string, match.start(), match.end()
        for kind, rule in self.rules:
            found = rule.match(text, start)
            if found is not None and found.end() == end:
                kept = next(group for group in found.groups() if group is not None)
                return f"{kept}[REDACTED:{kind}]"
        raise AssertionError("a redaction matched no rule")  # pragma: no cover

    def redact(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)


def _compile(rules: tuple[_Rule, ...]) -> Redactor:
    return Redactor(
        pattern=re.compile("|".join(rule.regex for rule in rules)),
        hold=re.compile("(?:" + "|".join(rule.partial for rule in rules) + ")\\Z"),
        rules=tuple((rule.kind, re.compile(rule.grouped)) for rule in rules),
    )


_SECRETS = _compile(tuple(rule for rule in _RULES if not rule.pii))
_WITH_PII = _compile(_RULES)


def redactor(*, pii: bool = False) -> Redactor:
    """The compiled patterns of one mode, shared by every caller."""
    return _WITH_PII if pii else _SECRETS


def redact(text: str, *, pii: bool = False) -> str:
    """The text with every secret (and, with pii, e-mail and phone) replaced by
    `[REDACTED:kind]`, keeping labels and user names so the text still reads."""
    return (_WITH_PII if pii else _SECRETS).redact(text)
