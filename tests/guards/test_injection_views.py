"""The injection screen's normalised views (chat.guards.injection) are built with
shortcuts (ASCII runs only lower-cased, substitutions tried only where they can
apply); they must equal the plain definitions, one regular expression a step."""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from chat.guards import injection

_MIXED_TOKEN = re.compile(r"(?<![\w@$])(?=[\w@$]*?[0-9@$])(?=[\w@$]*?[a-z])[\w@$]+")
_SPACED_LETTERS = re.compile(r"(?<!\w)(?:[a-z][ .\-_*]){2,}[a-z](?!\w)")
_SEPARATORS = re.compile(r"(?<=[a-z])[._*~|\\/+-]+(?=[a-z])")
_QUOTED = re.compile(
    r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’|`[^`\n]{1,300}`"
    r"|(?<!\w)'[^'\n]{1,300}'(?!\w)"
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}[ :]?){16,}")
_ROT13_HINT = re.compile(r"rot ?-? ?13|caesar|decode|decipher|decrypt|cipher", re.I)


def plain(text: str) -> str:
    text = injection._INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = re.sub(
        r"[^\x00-\x7f]+",
        lambda m: "".join(
            c
            for c in unicodedata.normalize("NFKD", m.group())
            if not unicodedata.combining(c)
        ),
        text,
    )
    text = text.casefold().translate(injection._CONFUSABLES)
    text = re.sub(r"\s*\n\s*", "\n", text)
    return re.sub(r"[^\S\n]+", " ", text)


def words(plain: str) -> str:
    text = _MIXED_TOKEN.sub(lambda m: m.group().translate(injection._LEET), plain)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group()), text)
    return _SEPARATORS.sub("", text)


# Letters, digits and the characters the views treat specially, with some
# accented, look-alike, full-width, invisible and blank ones.
_ALPHABET = st.sampled_from(
    list("abcdeiorstuxyzABCDEI0123457@$ .-_*~|/\\+'\"`\n\t?")
    + list("éÉàüßİıſаеорсΑΟ’“”‘`ＩＧ\u200b\u00ad\u00a0\u2003\u3000\u2028Ⅸ—ǅ")
)
_TEXT = st.lists(_ALPHABET, max_size=60).map("".join)


@settings(max_examples=600, deadline=None)
@given(_TEXT)
def test_views_match_their_definitions(text):
    assert injection._plain(text) == plain(text)
    assert injection._words(injection._plain(text)) == words(plain(text))
    view = words(plain(text))
    assert injection._letters(view) == re.sub(r"[^a-z]+", "", view)
    assert injection._quoted_spans(view) == [m.span() for m in _QUOTED.finditer(view)]


def decoded(text: str) -> list[tuple[str, str]]:
    blobs = itertools.chain(
        (("base64", m.group()) for m in _BASE64.finditer(text)),
        (("hex", m.group()) for m in _HEX.finditer(text)),
    )
    out = []
    for kind, blob in itertools.islice(blobs, injection.MAX_BLOBS):
        found = (
            injection._from_base64(blob)
            if kind == "base64"
            else injection._from_hex(blob)
        )
        if found:
            out.append((kind, found))
    if _ROT13_HINT.search(text):
        out.append(("rot13", codecs.encode(text, "rot13")))
    return out


_PIECES = list("aZ09+/=_- :\n.fFıſİé?") + [
    "deadbeef",
    "QUJD",
    "aWdub3Jl",
    "rot13",
    "ROT",
    "13",
    "Rot - 13",
    "CIPHER",
    "dEcOdE",
    "caeſar",
    "DECİPHER",
    "ünicode",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_encoded_payloads_are_found_as_by_their_definitions(text):
    assert list(injection._decoded_payloads(text)) == decoded(text)


# ASCII without the digits and signs read as letters: rot13 before or after
# making the views gives the same views.
_ROTATABLE = st.lists(
    st.sampled_from(list("abcdeimnoqrvzABNOZ .-_*~|/\\+'\"`\n\t?!,")), max_size=60
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_ROTATABLE)
def test_the_views_of_a_rot13_are_its_rotated_views(text):
    rotated = codecs.encode(text, "rot13")
    made = injection._Views(rotated)
    derived = injection._Views(rotated, rotated=injection._Views(text))
    for view in injection._VIEWS:
        assert derived[view] == made[view]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | _TEXT)
def test_rot13_is_the_codecs(text):
    assert injection._rot13(text) == codecs.encode(text, "rot13")
