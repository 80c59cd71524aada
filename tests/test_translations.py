"""The page is complete in every language it offers: each string of its templates,
scripts and Python messages has a translation in locale/, and the compiled
catalogues (committed, so no host needs gettext) match their sources. Django's
admin and allauth translate their own strings."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "locale"
TEMPLATES = [
    path
    for root in [REPO / "templates", *REPO.glob("*/templates")]
    for path in root.rglob("*")
    if path.is_file() and "admin" not in path.relative_to(root).parts[:1]
]
PACKAGES = [
    path.parent for path in REPO.glob("*/__init__.py") if path.parent.name != "tests"
]
GETTEXT = {"_", "gettext", "gettext_lazy"}
SCRIPTS = [p for p in (REPO / "static" / "chat").glob("*.js")]
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
ENTRY = re.compile(r'((?:#.*\n)*)msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)')


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode()


def catalogue(language: str, domain: str) -> dict[str, tuple[str, str]]:
    """msgid -> (msgstr, flags comment) of a .po file."""
    text = (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").read_text()
    return {
        _unquote(msgid): (_unquote(msgstr), comments)
        for comments, msgid, msgstr in ENTRY.findall(text)
        if _unquote(msgid)
    }


def template_strings() -> set[str]:
    found = set()
    for path in TEMPLATES:
        text = path.read_text()
        found |= set(re.findall(r'{% translate "([^"]+)"(?: as \w+)? %}', text))
        found |= set(re.findall(r"{% translate '([^']+)'(?: as \w+)? %}", text))
        for body in re.findall(
            r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate", text
        ):
            found.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", body))
    return found


def python_strings() -> set[str]:
    """The literal messages our Python code passes to gettext."""
    found = set()
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) in GETTEXT
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(node.args[0].value)
    return found


def script_strings() -> set[str]:
    found = set()
    for path in SCRIPTS:
        found |= set(re.findall(r'gettext\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    return found


def test_the_page_offers_english_and_two_more_languages():
    assert len(LANGUAGES) >= 2 and "en" in dict(settings.LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_is_translated(language, domain):
    entries = catalogue(language, domain)
    untranslated = [msgid for msgid, (msgstr, _) in entries.items() if not msgstr]
    fuzzy = [msgid for msgid, (_, comments) in entries.items() if "fuzzy" in comments]
    assert untranslated == [] and fuzzy == []
    if domain == "django":
        sources = template_strings() | python_strings()
    else:
        sources = script_strings()
    missing = sorted(sources - set(entries))
    assert missing == [], f"run makemessages: not in {language}/{domain}.po"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_compiled_catalogues_match_their_sources(language, domain):
    with (LOCALE / language / "LC_MESSAGES" / f"{domain}.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [
        msgid
        for msgid, (msgstr, _) in catalogue(language, domain).items()
        if compiled.gettext(msgid) != msgstr
    ]
    assert stale == [], "run compilemessages"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    for domain in ("django", "djangojs"):
        for msgid, (msgstr, _) in catalogue(language, domain).items():
            names = sorted(re.findall(r"%\((\w+)\)s", msgid))
            assert sorted(re.findall(r"%\((\w+)\)s", msgstr)) == names, msgid
