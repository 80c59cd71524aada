"""A literal prefilter for many regular expressions: one Aho-Corasick pass over a
text says which patterns could match it, and where, so only those run, and a
pattern whose every match starts with one of a few literals is tried only at
the positions where they occur (an anchored `match`, not a scan).

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
from collections.abc import Iterable, Iterator, Sequence
from re import _constants as sre  # the parser's own opcodes
from re import _parser as sre_parse

import ahocorasick

__all__ = ["Prefilter", "finditer", "required_literals", "required_prefixes"]

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


# Prefix sets larger than this are cut at the element before (still sound).
_MAX_PREFIXES = 512


def _sequence_prefixes(items: Iterable) -> tuple[frozenset[str], bool] | None:
    """The literal strings every match of a sequence starts with, and whether
    they are the whole sequence (so what follows extends them)."""
    found: frozenset[str] = frozenset([""])
    for op, value in items:
        if op is sre.LITERAL:
            found = frozenset(prefix + chr(value) for prefix in found)
            continue
        if op in _ZERO_WIDTH:
            continue  # an assertion only removes matches
        node = _node_prefixes(op, value)
        if node is None:
            return (found, False) if "" not in found else None
        starts, whole = node
        longer = frozenset(a + b for a in found for b in starts)
        if len(longer) > _MAX_PREFIXES:
            return (found, False) if "" not in found else None
        found = longer
        if not whole:
            return found, False
    return (found, True) if "" not in found else None


def _node_prefixes(op, value) -> tuple[frozenset[str], bool] | None:
    if op is sre.IN and all(item_op is sre.LITERAL for item_op, _ in value):
        # The parser folds "忘记|忘記" into 忘[记記].
        return frozenset(chr(char) for _, char in value), True
    if op is sre.BRANCH:
        out: set[str] = set()
        whole = True
        for branch in value[1]:
            found = _sequence_prefixes(branch.data)
            if found is None:
                return None
            out |= found[0]
            whole = whole and found[1]
        return frozenset(out), whole
    if op is sre.SUBPATTERN:
        if value[1] & re.IGNORECASE:
            return None
        return _sequence_prefixes(value[3].data)
    if op is sre.ATOMIC_GROUP:
        return _sequence_prefixes(value.data)
    if op in _REPEATS and value[0] >= 1:
        found = _sequence_prefixes(value[2].data)
        if found is None:
            return None
        return found[0], found[1] and value[0] == value[1] == 1
    return None


def required_prefixes(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` starts with, or None."""
    if pattern.flags & re.IGNORECASE:
        return None
    found = _sequence_prefixes(sre_parse.parse(pattern.pattern, pattern.flags).data)
    # Two letters will do: each occurrence costs one anchored match attempt.
    if found is None or not all(len(prefix) >= 2 for prefix in found[0]):
        return None
    return found[0]


def finditer(
    pattern: re.Pattern[str], text: str, starts: Sequence[int] | None
) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, trying only `starts` when they are known (every
    position where a match could begin, ascending)."""
    if starts is None:
        yield from pattern.finditer(text)
        return
    end = 0
    for start in starts:
        if start < end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            yield match
            end = max(match.end(), start + 1)


class Prefilter:
    """Which of `patterns` could match a text, and where.

    `scan(text)` maps the index of each pattern worth running to the positions
    where its matches could start (when every match starts with one of its
    literals: only those positions are tried), or to None (search it all)."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._always: list[int] = []
        owners: dict[str, tuple[set[int], set[int]]] = {}
        for index, pattern in enumerate(patterns):
            prefixes = required_prefixes(pattern)
            if prefixes is not None:
                for prefix in prefixes:
                    owners.setdefault(prefix, (set(), set()))[1].add(index)
                continue
            literals = required_literals(pattern)
            if literals is None:
                self._always.append(index)
                continue
            for literal in literals:
                owners.setdefault(literal, (set(), set()))[0].add(index)
        self._automaton = ahocorasick.Automaton()
        for literal, (anywhere, starting) in owners.items():
            self._automaton.add_word(
                literal, (len(literal), frozenset(anywhere), frozenset(starting))
            )
        if owners:
            self._automaton.make_automaton()
        self._empty = not owners

    def scan(self, text: str) -> dict[int, list[int] | None]:
        found: dict[int, list[int] | None] = dict.fromkeys(self._always)
        if self._empty:
            return found
        for end, (size, anywhere, starting) in self._automaton.iter(text):
            for index in anywhere:
                found[index] = None
            for index in starting:
                if index in found:
                    starts = found[index]
                    if starts is not None:
                        starts.append(end - size + 1)
                else:
                    found[index] = [end - size + 1]
        for starts in found.values():
            if starts is not None and len(starts) > 1:
                starts.sort()
        return found
