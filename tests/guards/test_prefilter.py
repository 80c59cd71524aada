"""The literal prefilter (chat/guards/prefilter.py) only skips patterns that
cannot match: the injection screen says the same with and without it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus_languages import LANGUAGES
from chat.guards import injection
from chat.guards.prefilter import (
    Prefilter,
    finditer,
    required_literals,
    required_prefixes,
)

CORPUS = Path(__file__).parent.parent / "data" / "injection_corpus.jsonl"


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\bignore (?:all|every) rules\b", {"ignore "}),
        (r"(?:disregard|forget)[\W_]+instructions", {"instructions"}),
        (r"(?:abc)?xy", None),  # too short to be rare
        (r"(?i:act as) DAN", {" DAN"}),  # case-insensitive literals are no use
        (r"(?:忽略|无视)指令", {"指令"}),
        (r"x{0,3}yyy", {"yyy"}),
        (r"[a-z]+", None),
    ],
)
def test_required_literals(pattern, literals):
    found = required_literals(re.compile(pattern))
    assert (set(found) if found else None) == literals


def test_scan_finds_the_patterns_whose_literals_occur_and_where():
    patterns = [
        re.compile(r"\bfoo\w+"),
        re.compile(r"\w+ (?:bar|qux)"),
        re.compile(r"."),
    ]
    prefilter = Prefilter(patterns)
    assert prefilter.scan("a foobar, foo") == {0: [2, 10], 1: None, 2: None}
    assert prefilter.scan("nothing here") == {2: None}
    assert prefilter.scan("a qux") == {1: None, 2: None}


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        (
            r"\b(?:ignore|forget) (?:all|every)",
            {"ignore all", "ignore every", "forget all", "forget every"},
        ),
        (r"(?<!\w)i(?:gnore|gnoring)\b", {"ignore", "ignoring"}),
        (r"(?:dis)?regard", None),
        (r"x[a-z]+", None),  # too short
        (r"(?:abc){2,}d", {"abc"}),  # a repeat ends what is known
    ],
)
def test_required_prefixes(pattern, prefixes):
    found = required_prefixes(re.compile(pattern))
    assert (set(found) if found else None) == prefixes


def test_finditer_at_known_starts_is_finditer():
    pattern = re.compile(r"\bab+")
    text = "ab abb xab abbb ab"
    starts = [i for i in range(len(text)) if text.startswith("ab", i)]
    assert [m.span() for m in finditer(pattern, text, starts)] == [
        m.span() for m in pattern.finditer(text)
    ]


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]
    for sets in LANGUAGES.values():
        texts += sets["attacks"] + sets["ordinary"]
    return texts


def test_the_screen_says_the_same_without_the_prefilter(monkeypatch):
    texts = _texts()
    with_prefilter = [injection.screen(text) for text in texts]

    class Everything:
        """Every rule worth running, each of its patterns searched everywhere."""

        def __init__(self, count: int) -> None:
            self.all = set(range(count))

        def scan(self, text: str) -> Everywhere:
            return Everywhere.fromkeys(self.all)

    class Everywhere(dict):
        @property
        def possible(self) -> dict[int, None]:
            return self

        def starts(self, index: int, member: int) -> None:
            return None

    monkeypatch.setattr(
        injection,
        "_PREFILTERS",
        {view: Everything(len(injection._RULES)) for view in injection._PREFILTERS},
    )
    without = [injection.screen(text) for text in texts]
    assert with_prefilter == without
    assert sum(result.flagged for result in without) > 200


def test_a_pattern_is_tried_only_when_all_its_literals_occur():
    prefilter = Prefilter([re.compile(r"\byou are now\b")])
    assert prefilter.scan("you said it is now late") == {}
    assert prefilter.scan("so you are now free") == {0: [3]}


def test_starts_inside_a_word_and_branches_whose_words_are_missing_are_skipped():
    patterns = [
        re.compile(r"\b(?:ur|your) rules"),
        re.compile(r"n(?:e[\W_]*tenez[\W_]*pas|(?<!\w.)egeer)"),
        re.compile(r"(?:^|\n)[ #]*system ?:"),
    ]
    prefilter = Prefilter(patterns)
    assert prefilter.scan("your rules, our rules") == {0: [0]}
    # "ne" of "ne tenez pas" anywhere, but only with "tenez" in the text; "ne"
    # of "negeer" only where a word starts.
    assert prefilter.scan("one negeer; none") == {1: [4]}
    assert prefilter.scan("one ne tenez") == {1: [1, 4, 9]}
    assert prefilter.scan("system: x\n# system: y") == {2: [0, 9]}


_SHAPES = [
    r"\b(?:ur|your) (?:rules|prompt)\b",
    r"n(?:e[\W_]*tenez[\W_]*pas|(?<!\w.)egeer|on)",
    r"(?:^|\n)[ #]*(?:system|user) ?:",
    r"\bignore\b(?: \w+){0,2} (?:rules|prompt)",
    r"(?<!\w)a(?:b|(?<!\w.)c)d",
]
_PIECES = (
    "ur your rules prompt system user ne tenez pas n egeer on ignore x abd acd".split()
    + [" ", "\n", "#", ":", "."]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_matches_at_the_scanned_starts_are_all_the_matches(text):
    patterns = [re.compile(shape) for shape in _SHAPES]
    found = Prefilter(patterns).scan(text)
    for index, pattern in enumerate(patterns):
        expected = [m.span() for m in pattern.finditer(text)]
        if index not in found:
            assert expected == []
        else:
            got = [m.span() for m in finditer(pattern, text, found[index])]
            assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_the_starts_of_an_entrys_other_patterns_hold_all_their_matches(text):
    patterns = [re.compile(shape) for shape in _SHAPES]
    entries = [(patterns[3], patterns[0], patterns[1]), (patterns[4], patterns[2])]
    found = Prefilter(entries).scan(text)
    for index, entry in enumerate(entries):
        if index not in found:
            continue
        for member, pattern in enumerate(entry[1:], start=1):
            starts = found.starts(index, member)
            if starts is None:
                continue
            expected = [m.span() for m in pattern.finditer(text)]
            assert [m.span() for m in finditer(pattern, text, starts)] == expected


def test_short_literals_are_found_only_when_their_branch_could_match():
    prefilter = Prefilter([re.compile(r"n(?:e[\W_]*tenez[\W_]*pas|(?<!\w.)egeer)")])
    # "ne" alone is in most texts: without "tenez" or "egeer" nothing is tried.
    assert prefilter.scan("one none nine") == {}
    assert prefilter.scan("ne tenez pas") == {0: [0, 5]}
