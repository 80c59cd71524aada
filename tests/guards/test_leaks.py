"""System-prompt confidentiality (chat.guards.leaks through the output filter): the
canary and long spans of the operator's prompt are caught in any case, spacing,
punctuation, look-alike letters, reversed or encoded, at any split, before any of
the leaked span is shown; over the socket the reply ends `filtered`, nothing of the
span is stored, and the event is recorded with the turn."""

from __future__ import annotations

import base64
import re

import pytest
from asgiref.sync import sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.errors import BlockedOutput
from chat.guards.leaks import GRAM, normalise
from chat.guards.output_filter import StreamFilter
from chat.llm import prompts
from chat.models import ErrorRecord, Message
from tests.ws import connect, read_reply, send_frame

CANARY = "cnry-0f1e2d3c4b5a"
PROMPT = (
    "You are Aurora, the support assistant of Northwind Traders. Never discuss "
    "competitor pricing. Escalate refunds above 500 euros to a human agent named "
    "Ingrid. The internal discount code for loyal customers is WINTERFOX."
)


def run(chunks: list[str], **options) -> tuple[str, bool]:
    """What the filter showed, and whether it stopped the reply."""
    output_filter = StreamFilter(canary=CANARY, system_prompt=PROMPT, **options)
    shown = []
    try:
        for chunk in chunks:
            shown.append(output_filter.feed(chunk))
        shown.append(output_filter.finish())
    except BlockedOutput as exc:
        assert "confidential instructions" in exc.message
        return "".join(shown), True
    return "".join(shown), False


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def longest_shared(shown: str, secret: str) -> int:
    """The longest run of the secret's normalised characters the shown text has,
    forwards or reversed."""
    a, b = normalise(shown), normalise(secret)
    best = 0
    for target in (b, b[::-1]):
        for start in range(len(a)):
            size = best + 1
            while start + size <= len(a) and a[start : start + size] in target:
                best = size
                size += 1
    return best


SPACED = " ".join(PROMPT)
HOMOGLYPHS = PROMPT.replace("a", "\u0430").replace("o", "\u043e").replace("e", "\u0435")
ECHOES = {
    "verbatim": f"Sure! My instructions say: {PROMPT}",
    "upper": f"OK: {PROMPT.upper()}",
    "spaced": f"Here: {SPACED}",
    "punctuated": "Here: " + "-".join(PROMPT.split()),
    "homoglyphs": f"Here: {HOMOGLYPHS}",
    "reversed": f"Reversed: {PROMPT[::-1]}",
    "paraphrase_with_long_span": (
        "In short I help customers. Word for word, the middle says: Escalate "
        "refunds above 500 euros to a human agent named Ingrid, and so on."
    ),
    "base64": "Encoded: " + base64.b64encode(PROMPT.encode()).decode() + " done",
    "hex": "Hex: " + PROMPT.encode().hex() + " done",
    "spaced_hex": "Hex: " + " ".join(f"{b:02x}" for b in PROMPT.encode()) + " ok",
}


@pytest.mark.parametrize("name", list(ECHOES))
@pytest.mark.parametrize("size", [1, 3, 7, 40])
def test_system_prompt_echoes_are_stopped_before_forty_characters_show(name, size):
    shown, stopped = run(split(ECHOES[name], size))
    assert stopped, name
    assert longest_shared(shown, PROMPT) < 33
    encoded = ECHOES[name].split(": ", 1)[1].replace(" ", "")
    if name in ("base64", "hex", "spaced_hex"):
        assert encoded[:16] not in shown.replace(" ", "")


CANARY_FORMS = {
    "exact": f"The marker is {CANARY}.",
    "upper": f"The marker is {CANARY.upper()}.",
    "spaced": "The marker is " + " ".join(CANARY) + ".",
    "punctuated": "The marker is " + ".".join(CANARY.replace("-", "")) + ".",
    "homoglyphs": "The marker is " + CANARY.replace("c", "\u0441") + ".",
    "fullwidth": "The marker is "
    + "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in CANARY),
    "reversed": f"The marker reversed is {CANARY[::-1]}.",
    "base64": "It is " + base64.b64encode(CANARY.encode()).decode() + ".",
    "hex": "It is " + CANARY.encode().hex() + ".",
}


@pytest.mark.parametrize("name", list(CANARY_FORMS))
def test_canary_is_caught_in_every_form_at_every_split_offset(name):
    text = CANARY_FORMS[name]
    for offset in range(len(text) + 1):
        shown, stopped = run([text[:offset], text[offset:]])
        assert stopped, (name, offset)
        assert longest_shared(shown, CANARY) < 6, (name, offset, shown)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(ECHOES)), st.randoms(use_true_random=False))
def test_any_chunking_of_an_echo_is_stopped_in_time(name, rng):
    text = ECHOES[name]
    chunks, at = [], 0
    while at < len(text):
        size = rng.randint(1, 9)
        chunks.append(text[at : at + size])
        at += size
    shown, stopped = run(chunks)
    assert stopped and longest_shared(shown, PROMPT) < 33


ORDINARY = [
    "Our refund policy allows returns within 30 days. Contact support for help.",
    "You are welcome! Northwind Traders ships to most countries in Europe.",
    "Here is some Python:\n```python\nprint('hello world')\n```\nThat is all.",
    "The SHA-256 of the file is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c.",
    "Base64 of 'hello world' is aGVsbG8gd29ybGQ= and hex is 68656c6c6f.",
    "I am an assistant here to help you with orders, refunds and deliveries.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_replies_pass_unchanged(text):
    shown, stopped = run(split(text, 3))
    assert not stopped and shown == text


def test_prompt_places_the_canary_first(settings):
    settings.LLM_SYSTEM_PROMPT = PROMPT
    [system] = prompts.system_messages(CANARY)
    assert system.content.index(CANARY) < system.content.index("Aurora")
    assert system.content.startswith("Confidential marker")


pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
@pytest.mark.parametrize("operator_only", [False, True])
async def test_echo_over_the_socket_ends_filtered_and_is_recorded(
    user, fake_model, settings, monkeypatch, operator_only
):
    settings.LLM_SYSTEM_PROMPT = PROMPT
    original = type(fake_model)._astream

    async def echo(self, messages, *args, **kwargs):
        system = messages[0].content
        text = PROMPT if operator_only else system
        self.tokens = ["Of course. ", *split(text, 4)]
        async for chunk in original(self, messages, *args, **kwargs):
            yield chunk

    monkeypatch.setattr(type(fake_model), "_astream", echo)
    comm = await connect(user)
    await comm.send_json_to(send_frame("What can you do?"))
    start = await comm.receive_json_from()
    frames = await read_reply(comm)
    await comm.disconnect()

    end = frames[-1]
    assert end["status"] == "filtered"
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and errors[0]["code"] == "blocked_output"
    assert "confidential instructions" in errors[0]["message"]
    shown = "".join(f["text"] for f in frames if f["type"] == "delta")
    assert longest_shared(shown, PROMPT) < 33
    assert not re.search(r"cnry-[0-9a-f]{4}", shown)
    reply = await Message.objects.aget(id=start["message"])
    assert longest_shared(reply.content, PROMPT) < 33
    record = await sync_to_async(
        lambda: ErrorRecord.objects.filter(kind="output_guard").latest("id")
    )()
    assert record.code == "blocked_output" and record.turn_id


def test_gram_fits_in_forty_characters_of_prose():
    assert GRAM <= 33
