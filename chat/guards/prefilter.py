"""A literal prefilter for many regular expressions: one Aho-Corasick pass over a
text says which patterns could match it, so only those run.

For each pattern, `required_literals` reads its parse tree and finds a set of
literal strings one of which every match must contain (the literal runs of a
sequence, the alternatives of a branch, the body of a repeat that occurs at
least once; zero-width assertions are transparent). A pattern with no such set,
or one whose strings are too short to be rare, always runs. This is the idea of
RE2's and Hyperscan's prefilters, kept small: it never changes what matches,
only how many patterns are tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from re import _constants as sre  # the parser's own opcodes
from re import _parser as sre_parse

import ahocorasick

__all__ = ["Prefilter", "required_literals"]

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


def _sequence(items: Iterable) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is sre.LITERAL:
            run.append(chr(value))
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        found = _node(op, value)
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset(["".join(run)]))
    if not candidates:
        return None
    # The rarest requirement: long strings, and few of them.
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))


def _node(op, value) -> frozenset[str] | None:
    if op is sre.BRANCH:
        out: set[str] = set()
        for branch in value[1]:
            found = _sequence(branch.data)
            if not found:
                return None
            out |= found
        return frozenset(out)
    if op is sre.SUBPATTERN:
        if value[1] & re.IGNORECASE:  # (?i:...): its literals match any case
            return None
        return _sequence(value[3].data)
    if op is sre.ATOMIC_GROUP:
        return _sequence(value.data)
    if op in _REPEATS:
        return _sequence(value[2].data) if value[0] >= 1 else None
    return None


def _rare(literal: str) -> bool:
    """Long enough to filter: 3 characters, or 1 outside ASCII (a CJK word)."""
    return len(literal) >= 3 or not literal.isascii()


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains, or None."""
    if pattern.flags & re.IGNORECASE:
        return None
    found = _sequence(sre_parse.parse(pattern.pattern, pattern.flags).data)
    if not found or not all(_rare(literal) for literal in found):
        return None
    return found


class Prefilter:
    """Which of `patterns` could match a text: those without required literals,
    and those with one of theirs in the text."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.always: frozenset[int] = frozenset()
        always = set()
        owners: dict[str, set[int]] = {}
        for index, pattern in enumerate(patterns):
            literals = required_literals(pattern)
            if literals is None:
                always.add(index)
                continue
            for literal in literals:
                owners.setdefault(literal, set()).add(index)
        self.always = frozenset(always)
        self._automaton = ahocorasick.Automaton()
        for literal, indexes in owners.items():
            self._automaton.add_word(literal, frozenset(indexes))
        if owners:
            self._automaton.make_automaton()
        self._empty = not owners

    def candidates(self, text: str) -> set[int]:
        """The indexes of the patterns worth running on `text`."""
        found = set(self.always)
        if self._empty:
            return found
        for _, indexes in self._automaton.iter(text):
            found |= indexes
        return found
