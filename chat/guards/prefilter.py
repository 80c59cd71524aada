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

A pattern is tried only when every one of its requirements occurred (a match of
"ignore the previous instructions" holds "ignore", "previous" and
"instructions"), not just one, so a rule that starts with a common word ("you",
"the") is not tried on every text that has it. Literals of two ASCII characters
("ne" of "ne tenez pas") are in nearly every text: the automaton leaves them
out, and they are looked for only when the branch they start could match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from itertools import chain
from operator import itemgetter, or_
from re import _constants as sre  # the parser's own opcodes
from re import _parser as sre_parse

import ahocorasick_rs

__all__ = [
    "Candidates",
    "Prefilter",
    "finditer",
    "required_literal_sets",
    "required_literals",
    "required_prefixes",
]

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


def _pieces(items: Iterable) -> Iterator[tuple[object, object]]:
    """A sequence's pieces: each run of literals as (None, the string), each
    other node that consumes text as (op, value); zero-width ones are skipped."""
    run: list[str] = []
    for op, value in items:
        if op is sre.LITERAL:
            run.append(chr(value))
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            yield None, "".join(run)
            run = []
        yield op, value
    if run:
        yield None, "".join(run)


def _sequence(items: Iterable) -> frozenset[str] | None:
    candidates = [
        frozenset([value]) if op is None else _node(op, value)
        for op, value in _pieces(items)
    ]
    candidates = [found for found in candidates if found]
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


def _all_of(items: Iterable) -> list[frozenset[str]]:
    """Sets of strings such that every match of a sequence contains one string of
    each: its literal runs, and the requirements of its groups, of the bodies of
    its repeats that occur at least once, and of its branches."""
    sets: list[frozenset[str]] = []
    for op, value in _pieces(items):
        if op is None:
            sets.append(frozenset([value]))
        elif op is sre.SUBPATTERN and not value[1] & re.IGNORECASE:
            sets += _all_of(value[3].data)
        elif op is sre.ATOMIC_GROUP:
            sets += _all_of(value.data)
        elif op in _REPEATS and value[0] >= 1:
            sets += _all_of(value[2].data)
        else:
            found = _node(op, value)
            if found:
                sets.append(found)
    return sets


def required_literal_sets(pattern: re.Pattern[str]) -> list[frozenset[str]]:
    """Sets of rare strings such that every match of `pattern` contains one of
    each set (none if it has no such set)."""
    if pattern.flags & re.IGNORECASE:
        return []
    sets = _all_of(sre_parse.parse(pattern.pattern, pattern.flags).data)
    return list(dict.fromkeys(s for s in sets if all(map(_rare, s))))


# Prefix sets larger than this are cut at the element before (still sound).
_MAX_PREFIXES = 512
_AT_START = {sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}


@dataclass(frozen=True)
class _Prefix:
    """A string every match of a pattern starts with (or with another of its
    set), and what must come before it."""

    text: str = ""
    # It starts the text ("^" in "(?:^|\n)system:"): its matches start at 0.
    at_start: bool = False
    # The character before it is not a word character: "\b" or "(?<!\w)"
    # before it, or "(?<!\w.)" after its first character.
    opens_word: bool = False
    # Before any character: a "\b" (what it says depends on the next one), and
    # look-behinds that reach back over characters read before this group.
    boundary: bool = False
    behind: tuple = ()
    # Sets of rare strings, one of each in any text the match is in: what the
    # rest of the branch that gave this prefix needs ("ne" of "ne tenez pas
    # compte" needs "compte"), so a common prefix is tried only when it could
    # lead somewhere.
    needs: frozenset[frozenset[str]] = frozenset()

    def __add__(self, other: _Prefix) -> _Prefix | None:
        if self.at_start:
            return self  # what follows the start of the text extends nothing
        if self.text:
            if other.at_start:
                return None  # "x^" never matches
            opens = any(_opens_word(body, self.text) for body in other.behind)
            return replace(
                self,
                text=self.text + other.text,
                opens_word=self.opens_word or opens,
                needs=self.needs | other.needs,
            )
        opens = self.boundary and other.text and _is_word(other.text[0])
        return replace(
            other,
            opens_word=self.opens_word or other.opens_word or bool(opens),
            boundary=not other.text and (self.boundary or other.boundary),
            behind=self.behind + other.behind,  # both reach back from here
            needs=self.needs | other.needs,
        )

    def after(self, op, value) -> _Prefix:
        """This prefix, once the zero-width assertion (op, value) follows it."""
        if op is sre.AT and value is sre.AT_BOUNDARY and not self.text:
            return replace(self, boundary=True)
        if op is sre.ASSERT_NOT and value[0] == -1:
            body = tuple(
                (item_op, tuple(item) if isinstance(item, list) else item)
                for item_op, item in value[1]
            )
            if _opens_word(body, self.text):
                return replace(self, opens_word=True)
            if not self.text:
                return replace(self, behind=(*self.behind, body))
        return self


def _opens_word(body: tuple, text: str) -> bool:
    """Whether a negative look-behind after `text` (read from the match's start)
    says the character before the match is not a word character: its first item
    is a class holding \\w, and the others surely match `text`."""
    if len(body) != len(text) + 1:
        return False
    op, items = body[0]
    return (
        op is sre.IN
        and (sre.CATEGORY, sre.CATEGORY_WORD) in items
        and items[0][0] is not sre.NEGATE
        and all(map(_matches, body[1:], text))
    )


def _matches(item, char: str) -> bool:
    """Whether a look-behind's item surely matches a character already read."""
    op, value = item
    if op is sre.ANY:
        return char != "\n"
    return op is sre.LITERAL and value == ord(char)


def _sequence_prefixes(items: Iterable) -> tuple[frozenset[_Prefix], bool] | None:
    """The prefixes every match of a sequence starts with, and whether they are
    the whole sequence (so what follows extends them)."""
    found: frozenset[_Prefix] = frozenset([_Prefix()])
    for op, value in items:
        if op is sre.LITERAL:
            found = _joined(found, frozenset([_Prefix(chr(value))]))
            continue
        if op is sre.AT and value in _AT_START and found == {_Prefix()}:
            return frozenset([_Prefix(at_start=True)]), False
        if op in _ZERO_WIDTH:  # an assertion only removes matches
            found = frozenset(prefix.after(op, value) for prefix in found)
            continue
        node = _node_prefixes(op, value)
        if node is None:
            return (found, False) if _known(found) else None
        starts, whole = node
        longer = _joined(found, starts)
        if len(longer) > _MAX_PREFIXES:
            return (found, False) if _known(found) else None
        found = longer
        if not whole:
            return found, False
    return (found, True) if _known(found) else None


def _joined(found: frozenset[_Prefix], starts: frozenset[_Prefix]) -> frozenset:
    return frozenset(a + b for a in found for b in starts) - {None}


def _known(found: frozenset[_Prefix]) -> bool:
    """Whether the prefixes say something: each has a character or starts the text."""
    return all(prefix.text or prefix.at_start for prefix in found)


def _node_prefixes(op, value) -> tuple[frozenset[_Prefix], bool] | None:
    if op is sre.IN and all(item_op is sre.LITERAL for item_op, _ in value):
        # The parser folds "忘记|忘記" into 忘[记記].
        return frozenset(_Prefix(chr(char)) for _, char in value), True
    if op is sre.BRANCH:
        out: set[_Prefix] = set()
        whole = True
        for branch in value[1]:
            found = _sequence_prefixes(branch.data)
            if found is None:
                return None
            needs = _sequence(branch.data)
            if needs and all(map(_rare, needs)):
                out.update(replace(p, needs=p.needs | {needs}) for p in found[0])
            else:
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


def _prefixes(pattern: re.Pattern[str]) -> frozenset[_Prefix] | None:
    if pattern.flags & re.IGNORECASE:
        return None
    found = _sequence_prefixes(sre_parse.parse(pattern.pattern, pattern.flags).data)
    if found is None or not all(map(_few, found[0])):
        return None
    return found[0]


def required_prefixes(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` starts with, or None; ""
    stands for the start of the text ("(?:^|\n)system:")."""
    found = _prefixes(pattern)
    return None if found is None else frozenset(prefix.text for prefix in found)


def _few(prefix: _Prefix) -> bool:
    """Rare enough that trying a match at each occurrence beats a search: two
    characters, or a line break or punctuation mark (not a letter or a space)."""
    if prefix.at_start or len(prefix.text) >= 2:
        return True
    return not prefix.text.isalnum() and prefix.text != " "


def _short(literal: str) -> bool:
    """An ASCII literal too short to be rare in any text."""
    return len(literal) <= 2 and literal.isascii()


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches in a str pattern


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

    An entry of `patterns` is one pattern, or a sequence of patterns that must
    all match somewhere for the entry to matter (a rule with the words it needs
    nearby). `scan(text)` answers with `Candidates`: the entries worth running,
    and where each of their patterns' matches could start."""

    def __init__(
        self, patterns: Sequence[re.Pattern[str] | Sequence[re.Pattern[str]]]
    ) -> None:
        self._always: list[int] = []
        # Per entry: its index and the bits of its requirements.
        self._entries: list[tuple[int, int]] = []
        # Per entry, per pattern: the literals its matches can start with (each
        # with the requirements of the branches it starts and whether they open
        # a word), and whether they can start the text; None when unknown.
        self._members: dict[int, list[_Starts | None]] = {}
        # Per literal: the (entry, requirements, opens a word) it starts a first
        # pattern of.
        self._firsts: dict[int | str, list[tuple[int, int, bool]]] = {}
        # Short ASCII literals ("he", "in") occur in any text: they are looked
        # for only when a branch they start could match (its rarer words
        # occurred), not by the automaton.
        self._short: set[str] = set()
        ids: dict[str, int] = {}
        bits: list[int] = []  # per literal id: the requirements it meets
        requirements: dict[frozenset[str], int] = {}

        def literal_id(literal: str) -> int | str:
            """The literal's index in the automaton; a short one stands for itself."""
            if _short(literal):
                self._short.add(literal)
                return literal
            if literal not in ids:
                ids[literal] = len(ids)
                bits.append(0)
            return ids[literal]

        def requirement(literals: frozenset[str]) -> int:
            """The bit set when one of `literals` occurs."""
            if literals not in requirements:
                requirements[literals] = 1 << len(requirements)
                for literal in literals:
                    bits[literal_id(literal)] |= requirements[literals]
            return requirements[literals]

        # One _Starts per pattern: rules that look for the same words nearby
        # share where those words are.
        shared: dict[re.Pattern[str], _Starts] = {}

        def starts(prefixes: frozenset[_Prefix]) -> _Starts:
            spec: dict[int | str, set[tuple[int, bool]]] = {}
            for prefix in prefixes:
                if prefix.at_start:
                    continue
                mask = 0
                for literals in prefix.needs:
                    mask |= requirement(literals)
                variant = (mask, prefix.opens_word)
                spec.setdefault(literal_id(prefix.text), set()).add(variant)
            return _Starts(
                {literal: tuple(variants) for literal, variants in spec.items()},
                any(prefix.at_start for prefix in prefixes),
            )

        for index, entry in enumerate(patterns):
            group = [entry] if isinstance(entry, re.Pattern) else list(entry)
            prefixes = [_prefixes(pattern) for pattern in group]
            sets = [s for pattern in group for s in required_literal_sets(pattern)]
            firsts = prefixes[0]
            if firsts is not None and not any(p.at_start for p in firsts):
                texts = frozenset(prefix.text for prefix in firsts)
                if not any(map(_short, texts)):  # "he" is in every text anyway
                    sets.append(texts)
            need = 0
            for literals in sets:
                need |= requirement(literals)
            for pattern, found in zip(group, prefixes, strict=True):
                if found is not None and pattern not in shared:
                    shared[pattern] = starts(found)
            members = [
                None if found is None else shared[pattern]
                for pattern, found in zip(group, prefixes, strict=True)
            ]
            if members[0] is None and not need:
                self._always.append(index)
                continue
            self._entries.append((index, need))
            self._members[index] = members
            if members[0] is not None:
                for literal, variants in members[0].spec.items():
                    for mask, opens in variants:
                        self._firsts.setdefault(literal, []).append(
                            (index, mask, opens)
                        )
        self._bits = bits
        # A DFA over the literals' bytes: one pass, whatever the script.
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                list(ids), implementation=ahocorasick_rs.Implementation.DFA
            )
            if ids
            else None
        )

    def _hits(self, text: str) -> list[tuple[int, int, int]]:
        """(literal id, start, end) of every literal occurrence in `text`."""
        if self._automaton is None:
            return []
        return self._automaton.find_matches_as_indexes(text, overlapping=True)

    def scan(self, text: str) -> Candidates:
        return Candidates(self, text, self._hits(text))


@dataclass(frozen=True, eq=False)  # hashed by identity: one per pattern
class _Starts:
    """The literals a pattern's matches start with: per literal id, each branch's
    (requirements, opens a word); and whether a match can start the text."""

    spec: dict[int | str, tuple[tuple[int, bool], ...]]
    at_start: bool


_ABSENT: list[int] = []  # an entry that cannot match (compared by identity)
_UNASKED = object()


class Candidates(Mapping):
    """A scan's answer: the index of each entry worth running, mapped to the
    positions where its first pattern's matches could start (ascending), or to
    None (search it all). `starts(index, member)` gives the same for the entry's
    other patterns. `possible` holds the entries whose needed literals all
    occur, a superset of the keys known without finding a position. Positions
    are found when an entry is first asked about: a caller that stops early (its
    verdict already certain) pays only for those."""

    def __init__(
        self, prefilter: Prefilter, text: str, hits: list[tuple[int, int, int]]
    ) -> None:
        self._prefilter, self._text = prefilter, text
        seen: set[int | str] = set(map(itemgetter(0), hits))
        self._met = met = reduce(or_, map(prefilter._bits.__getitem__, seen), 0)
        self._at: dict[int | str, list[int]] = {}
        for literal, start, _ in hits:
            self._at.setdefault(literal, []).append(start)
        # Short literals count as seen: where they are is found when needed.
        self._seen = seen = seen | prefilter._short
        self._word_starts: dict[int | str, list[int]] = {}
        self._later: dict[_Starts, list[int]] = {}
        members = prefilter._members
        # Per entry that could match: None (search it all), or the literals
        # worth trying, and whether only where a word starts. One pass over the
        # literals seen costs less than one per entry over its literals.
        self._chosen: dict[int, dict[int | str, bool] | None] = dict.fromkeys(
            prefilter._always
        )
        chosen = self._chosen
        self.possible = chosen.keys()
        for index, need in prefilter._entries:
            if met & need == need:
                chosen[index] = None if members[index][0] is None else {}
        firsts = prefilter._firsts
        for literal in seen & firsts.keys():
            for index, mask, opens in firsts[literal]:
                literals = chosen.get(index)
                if literals is not None and met & mask == mask:
                    literals[literal] = literals.get(literal, True) and opens
        self._entries: dict[int, list[int] | None] = {}

    def get(self, index: int, default: object = None) -> object:
        """The entry's positions (None: search it all), or `default` when it
        cannot match."""
        found = self._entries.get(index, _UNASKED)
        if found is _UNASKED:
            literals = self._chosen.get(index, _ABSENT)
            if literals is None or literals is _ABSENT:
                found = literals
            else:
                at_start = self._prefilter._members[index][0].at_start
                found = self._positions(literals, at_start) or _ABSENT
            self._entries[index] = found
        return default if found is _ABSENT else found

    def __getitem__(self, index: int) -> list[int] | None:
        found = self.get(index, _ABSENT)
        if found is _ABSENT:
            raise KeyError(index)
        return found  # type: ignore[return-value]

    def __contains__(self, index: object) -> bool:
        return self.get(index, _ABSENT) is not _ABSENT  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[int]:
        return (index for index in sorted(self._chosen) if index in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def starts(self, index: int, member: int) -> list[int] | None:
        """Where matches of the entry's `member`-th pattern could start."""
        if not member:
            return self[index]
        found = self._prefilter._members[index][member]
        if found is None:
            return None
        if found not in self._later:
            met, literals = self._met, {}
            for literal in found.spec.keys() & self._seen:
                opens = [o for mask, o in found.spec[literal] if met & mask == mask]
                if opens:
                    literals[literal] = all(opens)
            self._later[found] = self._positions(literals, found.at_start)
        return self._later[found]

    def _positions(self, literals: dict[int | str, bool], at_start: bool) -> list[int]:
        """Where the literals start (only where a word starts, for those marked
        so), ascending."""
        found = [
            self._starts_of_words(literal) if opens_word else self._starts_of(literal)
            for literal, opens_word in literals.items()
        ]
        if at_start:
            found.append([0])
        if len(found) == 1:
            return found[0]  # one literal's starts: ascending and distinct already
        # Ascending runs merged by the sort; a start repeated is tried once more.
        return sorted(chain.from_iterable(found))

    def _starts_of(self, literal: int | str) -> list[int]:
        if literal not in self._at:  # a short literal, not looked for yet
            found, at = [], self._text.find(literal)
            while at >= 0:
                found.append(at)
                at = self._text.find(literal, at + 1)
            self._at[literal] = found
        return self._at[literal]

    def _starts_of_words(self, literal: int | str) -> list[int]:
        if literal not in self._word_starts:  # a start inside a word fails
            text = self._text
            self._word_starts[literal] = [
                start
                for start in self._starts_of(literal)
                if not start
                or not (text[start - 1].isalnum() or text[start - 1] == "_")
            ]
        return self._word_starts[literal]
