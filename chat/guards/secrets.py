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

import math
import re
import tomllib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from re import _constants as _sre

import ahocorasick_rs

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
    # A validator (CHECKS) the matched value must pass, else it is left alone.
    check: str = ""
    # A prefix and a run of token characters, never whitespace: its hold-back is
    # the text's last word (see Redactor.hold_start), not a partial pattern.
    token: int = 0  # the longest match
    prefix: str = ""  # a token rule's literal prefix
    # A whole word of 40 characters whose first `word_keep` are shown: held back
    # from there (Redactor.hold_start), not by a partial pattern.
    word_keep: int = 0

    def _branches(self, rest: str) -> str:
        return "|".join(f"{first}{self.after}{rest}" for first in self.first)

    @property
    def classed(self) -> bool:
        """Whether a branch starts with a class rather than a literal character."""
        return any(first.startswith("[") for first in self.first)

    @property
    def branches(self) -> list[tuple[str, str]]:
        rest = "".join(piece.regex for piece in self.keep + self.secret)
        return [(first, f"{self.after}{rest}") for first in self.first]

    @property
    def partial_branches(self) -> list[tuple[str, str]]:
        pieces = self.keep + self.secret
        terms = [
            "".join(p.regex for p in pieces[:i]) + piece.partial
            for i, piece in enumerate(pieces)
        ]
        rest = "|".join(f"(?:{term})" for term in terms)
        return [(first, f"{self.after}(?:{rest})") for first in self.first]

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
        check="not_placeholder",
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


_RULES_FILE = Path(__file__).with_name("data") / "secret_rules.toml"


def _token_rules(spec: dict) -> list[_Rule]:
    charset = spec["charset"]
    ending = (_raw(f"(?![{charset}])", ""),) if spec.get("exact") else ()
    before = spec.get("before", _not_after(_TOKEN))
    rules = []
    for prefix in spec["prefixes"]:
        # The lookbehind goes after the whole literal prefix (shifted to still read
        # before the prefix's first character), so a branch fails on the prefix's
        # second character before any lookbehind runs: 128 branches cost little.
        shift = len(prefix) - 1
        behind = f"{before[:-1]}.{{{shift}}})" if shift else before
        pieces = (_lit(prefix[1:]),) if shift else ()
        pieces += (_raw(behind, ""), _run(charset, spec["min"], spec["max"]), *ending)
        longest = len(prefix) + spec["max"]
        rules.append(
            _Rule(
                spec["kind"],
                (re.escape(prefix[0]),),
                "",
                (),
                pieces,
                token=longest,
                prefix=prefix,
            )
        )
    return rules


# Between a label and its value: a closing quote, `=` or `:`, an opening quote.
_ASSIGN = _raw("[\"']?[ \\t]{0,8}(?::=|=>|[:=])[ \\t]{0,8}[\"']?", "[\"' \\t:=>]{0,21}")
_LABEL_SUFFIX = _run("A-Za-z0-9_.-", 0, 24)


def _labelled_rules(spec: dict) -> list[_Rule]:
    charset = spec["charset"]
    ending = (_raw(f"(?![{charset}])", ""),) if spec.get("exact") else ()
    suffix = (_LABEL_SUFFIX,) if spec.get("suffix") else ()
    rules = []
    for label in spec["labels"]:
        first = label[0]
        firsts = tuple(
            dict.fromkeys(re.escape(c) for c in (first.lower(), first.upper()))
        )
        keep = (_lit(label[1:], nocase=True), *suffix, _ASSIGN)
        secret = (_run(charset, spec["min"], spec["max"]), *ending)
        rules.append(
            _Rule(
                spec["kind"],
                firsts,
                spec.get("before", _not_after("A-Za-z")),
                keep,
                secret,
                check=spec.get("check", ""),
            )
        )
    return rules


def load_rules(path: Path = _RULES_FILE) -> tuple[_Rule, ...]:
    """The rules of a rule file (see data/secret_rules.toml for the format)."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    rules: list[_Rule] = []
    for spec in data.get("token", []):
        rules += _token_rules(spec)
    for spec in data.get("labelled", []):
        rules += _labelled_rules(spec)
    return tuple(rules)


# Rules whose first character is a class: numbers checked by their checksums, and
# an AWS secret key without its label (40 characters of high entropy).
_NUMBER_RULES = (
    _Rule(
        "payment_card",
        ("[2-6]",),
        _not_after("A-Za-z0-9_.+-"),
        (),
        (_raw("(?:[ -]?[0-9]){12,18}(?![0-9])", "[0-9 -]{0,36}"),),
        check="luhn",
    ),
    _Rule(
        "iban",
        ("[A-Z]",),
        _not_after("A-Za-z0-9_"),
        (),
        (
            _run("A-Z", 1, 1),
            _run("0-9", 2, 2),
            _raw(
                "(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
                "[ A-Z0-9]{0,40}",
            ),
        ),
        check="iban",
    ),
    # The first 7 characters are shown: while a word streams, nothing tells a
    # key from an ordinary word, and holding every word back would delay every
    # reply; 7 characters of a 40-character key are no use.
    _Rule(
        "aws_secret_key",
        ("[A-Za-z0-9/+]",),
        _not_after("A-Za-z0-9/+="),
        (_run("A-Za-z0-9/+", 6, 6),),
        (_run("A-Za-z0-9/+", 33, 33), _raw("(?![A-Za-z0-9/+=])", "")),
        check="aws_secret",
        word_keep=7,
    ),
)

# The built-in rules, then any imported ones (chat/guards/gitleaks_import.py).
_RULES = (
    _RULES
    + tuple(
        rule
        for path in sorted(_RULES_FILE.parent.glob("secret_rules*.toml"))
        for rule in load_rules(path)
    )
    + _NUMBER_RULES
)

KINDS = frozenset(rule.kind for rule in _RULES)

# The longest text any rule can match or read ahead (the PEM body dominates): the
# streaming filter never holds back more than this.
MAX_SECRET_LEN = 16_600


_KEY_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
)

# --- Checks: whether a matched value is a secret -----------------------------------

_PLACEHOLDER = re.compile(
    r"[*x.•#_-]+|<[^>]*>?|\$\{?[A-Za-z_].*|\{\{.*|%\(.*|(?i:x{3,}.*|your.*|changeme"
    r"|example.*|placeholder|redacted.*|none|null|true|false|undefined|required"
    r"|optional|string|secret|password|token)"
)
# Code, not a value: a variable, an attribute or call chain, a path.
_CODE_LIKE = re.compile(r"[a-z_]+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\.?|[/~.].*|\w+://.*")


def _entropy(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def _quoted(kept: str) -> bool:
    return kept[-1:] in ("'", '"')


def _password(value: str, kept: str) -> bool:
    if _PLACEHOLDER.fullmatch(value):
        return False
    if _quoted(kept):
        return len(value) >= 4
    return len(value) >= 6 and not _CODE_LIKE.fullmatch(value)


def _high_entropy(value: str, kept: str, bits: float = 3.0) -> bool:
    if len(value) < 8 or _PLACEHOLDER.fullmatch(value) or _CODE_LIKE.fullmatch(value):
        return False
    mixed = any(c.isdigit() for c in value) or (
        any(c.islower() for c in value) and any(c.isupper() for c in value)
    )
    return mixed and _entropy(value) >= bits


def _aws_secret(value: str, kept: str) -> bool:
    return (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
        and _entropy(value) >= 4.0
    )


def _luhn(value: str, kept: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    separators = {c for c in value if not c.isdigit()}
    if len(separators) > 1:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_IBAN_LENGTHS = {"NO": 15, "BE": 16, "DK": 18, "FI": 18, "NL": 18, "AT": 20, "DE": 22,
                 "GB": 22, "IE": 22, "CH": 21, "ES": 24, "SE": 24, "PL": 28, "FR": 27,
                 "IT": 27, "PT": 25, "LU": 20, "CZ": 24, "SK": 24, "GR": 27, "TR": 26,
                 "HU": 28, "RO": 24, "BG": 22, "HR": 21, "SI": 19, "EE": 20, "LT": 20,
                 "LV": 21, "IS": 26, "MT": 31, "CY": 28, "SA": 24, "AE": 23, "IL": 23,
                 "BR": 29, "UA": 29}  # fmt: skip


def _iban(value: str, kept: str) -> bool:
    compact = value.replace(" ", "")
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _not_placeholder(value: str, kept: str) -> bool:
    return not _PLACEHOLDER.fullmatch(value)


CHECKS = {
    "not_placeholder": _not_placeholder,
    "password": _password,
    "entropy": _high_entropy,
    "aws_secret": _aws_secret,
    "luhn": _luhn,
    "iban": _iban,
}


def _passes(check: str, value: str, kept: str) -> bool:
    """Run a named check; `entropy:2` passes gitleaks' own threshold along."""
    name, _, bits = check.partition(":")
    if bits:
        return CHECKS[name](value, kept, float(bits))
    return CHECKS[name](value, kept)


@dataclass(frozen=True)
class Redactor:
    """The compiled patterns of one mode (with or without personal data).

    Rules that start with a literal character are grouped by it into one pattern,
    so the engine skips to candidate characters and tries only their rules; the
    few that start with a class (numbers, an unlabelled AWS key, personal data)
    are a second pattern. At one position a literal rule wins."""

    pattern: re.Pattern[str]
    # The first characters every match of `pattern` starts with (lower-cased),
    # so it is tried only where one of them occurs (see `_leads`).
    leads: ahocorasick_rs.AhoCorasick
    classed: re.Pattern[str] | None
    # Find the earliest start of a possibly unfinished match ending the text:
    # per tier, a pattern and how far back from the end its matches can start
    # (None: anywhere, a private key's long body), so most are searched for in
    # the text's tail only.
    holds: tuple[tuple[re.Pattern[str], int | None], ...]
    # The longest match of a token rule (0: none), the token rules' prefixes by
    # first character, and every proper beginning of a prefix.
    token_max: int
    token_prefixes: dict[str, tuple[str, ...]]
    token_beginnings: frozenset[str]
    word_keep: int
    # Each rule alone, in the order matches are tried, with its kept prefix and
    # the name of its check.
    rules: tuple[tuple[str, re.Pattern[str], str], ...]
    # (text, from, starts) of the last `_starts` call.
    _last_starts: list = field(
        default_factory=lambda: [None], compare=False, repr=False
    )

    def matches(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        """Non-overlapping matches of both patterns from `pos`, left to right."""
        starts = self._starts(text, pos)
        a = self._search(text, pos, starts)
        b = self.classed.search(text, pos) if self.classed is not None else None
        while a is not None or b is not None:
            if b is None or (a is not None and a.start() <= b.start()):
                found = a
            else:
                found = b
            yield found
            pos = found.end()
            if a is not None and a.start() < pos:
                a = self._search(text, pos, starts)
            if b is not None and b.start() < pos:
                b = self.classed.search(text, pos)

    def _starts(self, text: str, pos: int) -> list[int]:
        """Where a match of `pattern` could start: its leads' occurrences. One
        pass in C; the pattern itself would try each of its first characters at
        almost every letter of the text. The last text's are kept, as the scan
        looks for matches in the same text again and again."""
        last = self._last_starts[0]  # one read: other threads redact too
        if last is not None and last[0] is text and last[1] <= pos:
            return last[2]
        tail = text[pos:]
        # str.lower keeps ASCII text's length (not all text's: "İ" becomes two).
        lowered = tail.lower() if tail.isascii() else tail.translate(_ASCII_LOWER)
        found = self.leads.find_matches_as_indexes(lowered, overlapping=True)
        starts = sorted({pos + start for _, start, _ in found})
        self._last_starts[0] = (text, pos, starts)
        return starts

    def _search(self, text: str, pos: int, starts: list[int]) -> re.Match[str] | None:
        """`pattern.search(text, pos)`, tried only at `starts`."""
        for start in starts[bisect_left(starts, pos) :]:
            found = self.pattern.match(text, start)
            if found is not None:
                return found
        return None

    def hold_start(self, text: str, pos: int) -> int:
        """Where the earliest match that more text could still change starts."""
        start = len(text)
        for pattern, reach in self.holds:
            found = pattern.search(
                text, pos if reach is None else max(pos, len(text) - reach)
            )
            if found is not None:
                start = min(start, found.start())
        if self.token_max:
            start = min(start, self._token_hold(text, pos))
        if self.word_keep:
            start = min(start, self._word_hold(text, pos))
        return start

    def decide(self, match: re.Match[str]) -> tuple[int, str] | None:
        """(length of the label the rule keeps, kind) for a match, or None when
        the rule's check says it is no secret."""
        text, start, end = match.string, match.start(), match.end()
        for kind, rule, check in self.rules:
            found = rule.match(text, start)
            if found is not None and found.end() == end:
                kept = next(group for group in found.groups() if group is not None)
                value = text[start + len(kept) : end]
                if check and not _passes(check, value, kept):
                    return None
                return len(kept), kind
        raise AssertionError("a redaction matched no rule")  # pragma: no cover

    def _word_hold(self, text: str, pos: int) -> int:
        """An unlabelled key is a word of exactly 40 key characters: hold a last
        word of 8 to 40 of them from its 8th character (the word may start in
        text already released: the streaming filter keeps 48 characters of it)."""
        size = 0
        at = len(text) - 1
        while at >= 0 and size <= 40 and text[at] in _KEY_CHARS:
            size += 1
            at -= 1
        if not self.word_keep < size <= 40:
            return len(text)
        if at >= 0 and text[at] == "=":
            return len(text)
        return max(pos, len(text) - size + self.word_keep)

    def _token_hold(self, text: str, pos: int) -> int:
        """Where a token rule's unfinished match in the last word starts: a match
        lies inside one word and starts with its prefix, so the word is searched
        for a prefix (or the beginning of one) after a non-letter."""
        tail = text[max(pos, len(text) - self.token_max) :]
        if not tail or tail[-1].isspace():
            return len(text)
        word = tail.rsplit(maxsplit=1)[-1]
        base = len(text) - len(word)
        prefixes, beginnings = self.token_prefixes, self.token_beginnings
        for i, char in enumerate(word):
            if i and word[i - 1].isalnum() and char not in ":Q":
                continue
            rest = word[i:]
            if rest in beginnings:
                return base + i
            starts = prefixes.get(char)
            if starts and rest.startswith(starts):
                return base + i
        return len(text)

    def replacement(self, match: re.Match[str]) -> str:
        """The marker for a match, after any label the rule keeps; the match
        itself when it is no secret."""
        decided = self.decide(match)
        if decided is None:
            return match.group()
        kept, kind = decided
        return f"{match.group()[:kept]}[REDACTED:{kind}]"

    def redact(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for match in self.matches(text):
            out.append(text[pos : match.start()])
            out.append(self.replacement(match))
            pos = match.end()
        out.append(text[pos:])
        return "".join(out)


# English letters by frequency: at each position the engine tries the groups in
# order, so common letters should find theirs (or fail) first.
_FREQUENCY = "etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ"


# Partial matches are searched for in the tail their width allows: tiers of
# widths, each one pattern; wider ones in the whole text.
_HOLD_TIERS = (64, 128, 600)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lead(items, lead: str = "", size: int = 3) -> set[str]:
    """The first (up to `size`) characters, lower-cased, one of which every match
    of a parsed pattern starts with: its leading literals, through groups,
    case-insensitive ones and alternatives, and past lookbehinds (zero width)."""
    items = list(items)
    for at, (op, value) in enumerate(items):
        if len(lead) == size:
            break
        rest = items[at + 1 :]
        if op is _sre.LITERAL and chr(value).isascii():
            lead += chr(value).lower()
        elif op is _sre.AT or (op in (_sre.ASSERT, _sre.ASSERT_NOT) and value[0] < 0):
            continue  # an anchor or a lookbehind: nothing consumed
        elif op is _sre.SUBPATTERN:
            return _lead([*value[3].data, *rest], lead, size)
        elif op is _sre.BRANCH:
            return set().union(
                *(_lead([*alt.data, *rest], lead, size) for alt in value[1])
            )
        else:
            break
    return {lead}


def _leads(rules: list[_Rule]) -> ahocorasick_rs.AhoCorasick:
    leads = set()
    for rule in rules:
        for branch in rule.branches:
            for lead in _lead(re._parser.parse("".join(branch)).data):
                if not lead:
                    raise ValueError(f"rule {rule.kind} starts with no literal")
                leads.add(lead)
    return ahocorasick_rs.AhoCorasick(
        sorted(leads), implementation=ahocorasick_rs.Implementation.DFA
    )


def _width(branch: tuple[str, str]) -> int:
    """The most characters a branch can match (the regex parser's own bound)."""
    return re._parser.parse("".join(branch)).getwidth()[1]


def _grouped(branches: list[tuple[str, str]]) -> str:
    """One alternative per first character, its rules' tails in order. Groups
    exclude each other (distinct first characters), so their order is free."""
    by_first: dict[str, list[str]] = {}
    for first, tail in branches:
        by_first.setdefault(first, []).append(tail)

    def rank(first: str) -> int:
        at = _FREQUENCY.find(first)
        return at if at >= 0 else len(_FREQUENCY)

    return "|".join(
        f"{first}(?:{'|'.join(by_first[first])})"
        for first in sorted(by_first, key=rank)
    )


def _compile(rules: tuple[_Rule, ...]) -> Redactor:
    literal = [rule for rule in rules if not rule.classed]
    classed = [rule for rule in rules if rule.classed]

    def pattern(group: list[_Rule]) -> re.Pattern[str] | None:
        if not group:
            return None
        return re.compile(_grouped([b for rule in group for b in rule.branches]))

    def partials(group: list[_Rule]) -> list[tuple[str, str]]:
        return [
            b
            for rule in group
            if not rule.token and not rule.word_keep
            for b in rule.partial_branches
        ]

    def holds(
        branches: list[tuple[str, str]],
    ) -> list[tuple[re.Pattern[str], int | None]]:
        tiers: dict[int | None, list[tuple[str, str]]] = {}
        for branch in branches:
            width = _width(branch)
            reach = next((tier for tier in _HOLD_TIERS if width <= tier), None)
            tiers.setdefault(reach, []).append(branch)
        return [
            (re.compile(f"(?:{_grouped(group)})\\Z"), reach)
            for reach, group in tiers.items()
        ]

    return Redactor(
        pattern=pattern(literal),
        leads=_leads(literal),
        classed=pattern(classed),
        holds=(*holds(partials(literal)), *holds(partials(classed))),
        token_max=max((rule.token for rule in rules), default=0),
        token_prefixes={
            first: tuple(r.prefix for r in rules if r.prefix[:1] == first)
            for first in {r.prefix[:1] for r in rules if r.prefix}
        },
        word_keep=max((rule.word_keep for rule in rules), default=0),
        token_beginnings=frozenset(
            r.prefix[:size] for r in rules for size in range(1, len(r.prefix))
        ),
        rules=tuple(
            (rule.kind, re.compile(rule.grouped), rule.check)
            for rule in literal + classed
        ),
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
