"""Import the rules of a gitleaks checkout (config/gitleaks.toml, MIT licence) into
this project's rule format: `python -m chat.guards.gitleaks_import PATH`.

gitleaks' regexes are Go RE2 and often need a whole-text scanner; the streaming
filter needs rules that start with a literal and are bounded. So only the two
shapes that translate exactly are kept, each checked to compile with Python's `re`
and to start with one of the rule's own keywords (the cheap prefilter):

- a token: an optional `\\b`, a literal prefix (or a few alternatives), one
  character class with a bounded count, an optional boundary;
- a labelled value: gitleaks' generic "KEYWORD ... = VALUE" template with one
  character class of a fixed length.

The rest is reported as skipped. The output (data/secret_rules_gitleaks.toml, with
gitleaks' licence beside it as data/LICENSE.gitleaks) is read with the built-in
rules at start-up.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tomllib
from pathlib import Path

__all__ = ["translate"]

DATA = Path(__file__).with_name("data")
# A bound for open-ended counts ({250,}): a match longer than this is redacted up
# to the bound, and the hold-back stays bounded.
OPEN_COUNT = 512

_BOUNDARY = r"""(?:\\b|\(\?:\[\\x60'"\\s;\]\|\\\\\[nr\]\|\$\))?"""
_TOKEN = re.compile(
    r"^(?:\(\?i\))?(?:\\b)?\(?"
    r"(?P<alts>\(\?:[A-Za-z0-9_|\-]+\))?(?P<lit>(?:[A-Za-z0-9_\-]|\\[.\-_])*)"
    r"(?P<nocase>\(\?i\))?(?P<cls>\[[^\]\[]+\]|\[\[:alnum:\]\])"
    r"\{(?P<min>\d+)(?:,(?P<max>\d*))?\}\)?" + _BOUNDARY + "$"
)
_GENERIC = re.compile(
    r"^\(\?i\)\[\\w\.-\]\{0,50\}\?\(\?:(?P<keywords>[A-Za-z0-9_|\-]+)\)"
    + re.escape(r"""(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)"""
                r"""[\x60'"\s=]{0,5}(""")
    + r"(?P<cls>\[[^\]\[]+\])\{(?P<n>\d+)\}\)" + _BOUNDARY + "$"
)  # fmt: skip


def _charset(cls: str, *, nocase: bool) -> str | None:
    """A gitleaks class as the inside of a Python class, or None if it is not
    plain letters, digits and a few symbols."""
    if cls == "[[:alnum:]]":
        return "A-Za-z0-9"
    inner = cls[1:-1].replace("\\w", "A-Za-z0-9_").replace("\\-", "-")
    inner = inner.replace("\\d", "0-9")
    if not re.fullmatch(r"[A-Za-z0-9_+/=.~\-]+", inner):
        return None
    if nocase:
        for low, high in (("a-z", "A-Z"), ("a-f", "A-F"), ("A-Z", "a-z")):
            if low in inner and high not in inner:
                inner += high
    # A literal dash goes last so it never reads as a range.
    if inner.startswith("-") or inner.endswith("-") or "-" not in inner:
        dash = inner.count("-") and (inner.startswith("-") or inner.endswith("-"))
        inner = inner.strip("-") + ("-" if dash else "")
    return inner


def _token(rule: dict) -> dict | None:
    found = _TOKEN.match(rule["regex"])
    if found is None:
        return None
    literal = re.sub(r"\\(.)", r"\1", found["lit"])
    alts = found["alts"][3:-1].split("|") if found["alts"] else [""]
    prefixes = [alt + literal for alt in alts]
    charset = _charset(found["cls"], nocase=bool(found["nocase"]))
    keywords = [k.lower() for k in rule.get("keywords", [])]
    if charset is None or not all(len(p) >= 3 for p in prefixes):
        return None
    if not all(any(k in p.lower() for k in keywords) for p in prefixes):
        return None
    low = int(found["min"])
    high = found["max"]
    high = int(high) if high else (low if high is None else low + OPEN_COUNT)
    return {
        "kind": rule["id"].replace("-", "_"),
        "prefixes": prefixes,
        "charset": charset,
        "min": low,
        "max": high,
    }


def _labelled(rule: dict) -> dict | None:
    found = _GENERIC.match(rule["regex"])
    if found is None:
        return None
    charset = _charset(found["cls"], nocase=True)
    if charset is None:
        return None
    size = int(found["n"])
    spec = {
        "kind": rule["id"].replace("-", "_"),
        "labels": found["keywords"].split("|"),
        "charset": charset,
        "min": size,
        "max": size,
        "exact": True,
        "suffix": True,
    }
    if rule.get("entropy"):
        spec["check"] = f"entropy:{min(float(rule['entropy']), 3.0):g}"
    return spec


def _compiles(spec: dict) -> bool:
    try:
        re.compile(f"[{spec['charset']}]{{{spec['min']},{spec['max']}}}")
    except re.error:
        return False
    return True


def translate(config: str) -> tuple[list[dict], list[dict], list[str]]:
    """(token rules, labelled rules, ids skipped) of a gitleaks.toml text."""
    tokens, labelled, skipped = [], [], []
    for rule in tomllib.loads(config).get("rules", []):
        if "regex" not in rule:
            skipped.append(rule.get("id", "?"))
            continue
        spec = _token(rule)
        if spec is not None and _compiles(spec):
            tokens.append(spec)
            continue
        spec = _labelled(rule)
        if spec is not None and _compiles(spec):
            labelled.append(spec)
            continue
        skipped.append(rule["id"])
    return tokens, labelled, skipped


def _toml(section: str, spec: dict) -> str:
    lines = [f"[[{section}]]"]
    for key, value in spec.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines)


def render(tokens: list[dict], labelled: list[dict], *, source: str) -> str:
    head = (
        f"# Imported from gitleaks ({source}) by chat/guards/gitleaks_import.py.\n"
        "# gitleaks is MIT-licensed: see LICENSE.gitleaks. Do not edit by hand.\n"
    )
    blocks = [_toml("token", s) for s in tokens]
    blocks += [_toml("labelled", s) for s in labelled]
    return head + "\n" + "\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a gitleaks source checkout")
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument(
        "--source", help="how the header names the checkout (default: its path)"
    )
    args = parser.parse_args(argv)
    config = (args.checkout / "config" / "gitleaks.toml").read_text()
    tokens, labelled, skipped = translate(config)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "secret_rules_gitleaks.toml").write_text(
        render(tokens, labelled, source=args.source or str(args.checkout))
    )
    licence = args.checkout / "LICENSE"
    if licence.exists():
        (args.out / "LICENSE.gitleaks").write_text(licence.read_text())
    kinds = {s["kind"] for s in itertools.chain(tokens, labelled)}
    print(
        f"{len(tokens)} token and {len(labelled)} labelled rules ({len(kinds)} "
        f"kinds) written; {len(skipped)} skipped: {', '.join(skipped)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
