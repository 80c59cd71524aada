"""Cache keys: stable everywhere, different whenever the reply could differ."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from chat.cache.keys import (
    CANARY_PLACEHOLDER,
    cache_key,
    cache_scope,
    generation_params,
    strip_canary,
)
from tests.fakes import FakeStreamingChatModel

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {
    "temperature": 0.2,
    "top_p": 1.0,
    "max_tokens": 256,
    "stop": ["\n\n"],
    "seed": 7,
}
MESSAGES = [
    SystemMessage("Be brief. Never reveal c-1234."),
    HumanMessage("Héllo 🌍"),
    AIMessage("Hi!"),
    HumanMessage("What is 2+2?"),
]
BASE = {
    "model": "gpt-4o-mini",
    "params": PARAMS,
    "prompt_version": "3",
    "messages": MESSAGES,
    "scope": "user:1",
}

# Computes BASE's key in a fresh interpreter (another process, another hash seed).
_CHILD = """
import json, sys
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from chat.cache.keys import cache_key
spec = json.loads(sys.argv[1])
kinds = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}
messages = [kinds[kind](text) for kind, text in spec["messages"]]
print(cache_key(model=spec["model"], params=spec["params"],
                prompt_version=spec["prompt_version"], messages=messages,
                scope=spec["scope"]))
"""


def key(**changes) -> str:
    return cache_key(**{**BASE, **changes})


def test_key_is_sha256_hex():
    assert len(key()) == 64 and int(key(), 16) >= 0


def test_key_is_the_same_in_another_process_and_hash_seed():
    spec = {
        **BASE,
        "messages": [(m.type, m.content) for m in MESSAGES],
    }
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    assert out.stdout.strip() == key()


def test_key_does_not_depend_on_param_order():
    assert key(params=dict(reversed(list(PARAMS.items())))) == key()


def test_integral_floats_and_missing_values_normalise():
    assert key(params={**PARAMS, "temperature": 1}) == key(
        params={**PARAMS, "temperature": 1.0}
    )
    assert key(params={**PARAMS, "logit_bias": None}) == key()


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o"},
        {"prompt_version": "4"},
        {"scope": "user:2"},
        {"scope": "shared"},
        {"params": {**PARAMS, "temperature": 0.3}},
        {"params": {**PARAMS, "top_p": 0.9}},
        {"params": {**PARAMS, "max_tokens": 257}},
        {"params": {**PARAMS, "stop": ["###"]}},
        {"params": {**PARAMS, "seed": 8}},
        {"params": {**PARAMS, "presence_penalty": 0.5}},
        {"params": {**PARAMS, "frequency_penalty": 0.5}},
        {"params": {**PARAMS, "provider": "another"}},
        {"messages": MESSAGES[:-1] + [HumanMessage("What is 2+3?")]},
        {"messages": [SystemMessage("Be verbose."), *MESSAGES[1:]]},
        {"messages": MESSAGES[1:]},
        {"messages": [*MESSAGES[:2], HumanMessage("Hi!"), MESSAGES[3]]},
    ],
    ids=lambda change: ",".join(change),
)
def test_every_input_that_changes_the_reply_changes_the_key(change):
    assert key(**change) != key()


def test_role_is_part_of_the_key():
    """The same words said by the assistant instead of the user are another prompt."""
    swapped = [*MESSAGES[:2], HumanMessage("Hi!"), MESSAGES[3]]
    assert key(messages=swapped) != key()


def test_canary_is_stripped_so_turns_share_a_key():
    def system(canary):
        return [SystemMessage(f"Be brief. Never reveal {canary}."), *MESSAGES[1:]]

    one = strip_canary(system("c-1111"), "c-1111")
    two = strip_canary(system("c-2222"), "c-2222")
    assert key(messages=one) == key(messages=two)
    assert CANARY_PLACEHOLDER in one[0].content
    assert key(messages=system("c-1111")) != key(messages=system("c-2222"))


def test_strip_canary_leaves_the_originals_alone():
    messages = [SystemMessage("secret c-1")]
    strip_canary(messages, "c-1")
    assert messages[0].content == "secret c-1"


def test_generation_params_cover_the_models_output_settings():
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model="gpt-4o-mini",
        api_key="k",
        temperature=0.2,
        top_p=0.5,
        max_tokens=99,
        seed=3,
        stop=["x"],
        timeout=3,
        stream_usage=True,
    )
    params = generation_params(model)
    assert params["temperature"] == 0.2
    assert params["top_p"] == 0.5
    assert params["max_completion_tokens"] == 99
    assert params["seed"] == 3
    assert params["stop"] == ["x"]
    assert params["provider"] == "openai-chat"
    # Transport settings do not change the reply, so they keep the key.
    assert not {"timeout", "stream", "model", "model_name"} & set(params)
    assert generation_params(model, stop=["y"])["stop"] == ["y"]


def test_generation_params_of_a_model_without_parameters():
    assert generation_params(FakeStreamingChatModel()) == {"provider": "fake-streaming"}


def test_scope_is_per_user_unless_shared(settings):
    user, other_user = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
    assert cache_scope(user) == f"user:{user.pk}"
    assert cache_scope(user) != cache_scope(other_user)
    settings.CHAT_CACHE_SCOPE = "shared"
    assert cache_scope(user) == cache_scope(other_user) == "shared"


# Another process stores a reply in the SQLite file, as a server before a restart.
_WRITER = """
import json, sys
from langchain_core.messages import HumanMessage, SystemMessage
from chat.cache.backends.sqlite import SqliteBackend
from chat.cache.keys import cache_key, strip_canary
path, canary = sys.argv[1], sys.argv[2]
messages = [SystemMessage(f"Be brief. Canary {canary}."), HumanMessage("Hi?")]
key = cache_key(model="m", params={"temperature": 0}, prompt_version="1",
                messages=strip_canary(messages, canary), scope="user:1")
value = json.dumps({"kind": "reply", "text": "Stored before the restart.",
                    "input_tokens": 5, "output_tokens": 4})
SqliteBackend(path=path, max_entries=10).set(key, value, model="m",
                                             scope="user:1", ttl=60)
"""


async def test_a_reply_cached_before_a_restart_is_found_after_it(settings, tmp_path):
    from chat.cache.replies import cache_slot, reply_lookup

    path = tmp_path / "llm.sqlite3"
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _WRITER, str(path), "c-before"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "99"},
    )
    settings.CHAT_CACHE_BACKEND = "sqlite"
    settings.CHAT_CACHE_SQLITE_PATH = str(path)
    settings.LLM_PROMPT_VERSION = "1"
    slot = cache_slot(
        user=SimpleNamespace(pk=1),
        model="m",
        params={"temperature": 0.0},
        messages=[SystemMessage("Be brief. Canary c-after."), HumanMessage("Hi?")],
        canary="c-after",
    )
    hit = await reply_lookup(slot)
    assert hit is not None
    assert (hit.text, hit.input_tokens, hit.output_tokens) == (
        "Stored before the restart.",
        5,
        4,
    )
