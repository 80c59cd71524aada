"""The streaming output filter (chat.guards.output_filter): however a reply is split
into chunks, what it emits is exactly the redaction of the whole reply; a canary
stops it before any of the canary is shown; it fails closed."""

from __future__ import annotations

import random
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.errors import BlockedOutput
from chat.guards.output_filter import StreamFilter
from chat.guards.redaction import redact_reply as redact
from tests.guards.test_secrets import PEM, PII_SAMPLES, SAMPLES

CANARY = "cnry-0123456789ab"


def stream(chunks: list[str], **options) -> str:
    output_filter = StreamFilter(**options)
    return "".join(output_filter.feed(chunk) for chunk in chunks) + (
        output_filter.finish()
    )


def split_at(text: str, cuts: list[int]) -> list[str]:
    edges = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in zip(edges, edges[1:], strict=False)]


# Fragments that exercise every rule: whole secrets, their beginnings and
# endings, separators the rules care about, and ordinary words.
FRAGMENTS = [text for _, text, _ in SAMPLES + PII_SAMPLES] + [
    "sk-", "sk-ant-", "sk_live_", "AIza", "AKIA", "ghp_", "github_pat_", "xoxb-",
    "eyJ", ".eyJ", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
    "-----", "MIIEow+/=", "https://", "://user:", "@host", "Authorization: ",
    "Bearer ", "aws_secret_access_key=", "+44 ", "(555) ", "123-4567", "cnry-",
    "a", "1", "-", "_", ".", ":", "/", "@", "+", "(", ")", "=", "'", '"', " ", "\n",
    "\t", "hello", "world", "Sure, here you go", "2024", "é", "日本",
]  # fmt: skip
texts = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=16
).map("".join)


@st.composite
def split_texts(draw):
    text = draw(texts)
    cuts = draw(st.lists(st.integers(0, len(text)), max_size=12))
    return text, split_at(text, cuts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_texts(), st.booleans())
def test_any_split_emits_exactly_the_redacted_text(case, pii):
    text, chunks = case
    assert stream(chunks, pii=pii) == redact(text, pii=pii)


@settings(max_examples=200, deadline=None)
@given(split_texts())
def test_one_character_chunks_emit_the_redacted_text(case):
    text, _ = case
    assert stream(list(text), pii=True) == redact(text, pii=True)


@pytest.mark.parametrize(("kind", "secret", "expected"), SAMPLES + PII_SAMPLES)
def test_each_secret_is_redacted_at_every_split_offset(kind, secret, expected):
    text = f"Your value: {secret}\nDone."
    wanted = f"Your value: {expected}\nDone."
    pii = (kind, secret, expected) in PII_SAMPLES
    for offset in range(len(text) + 1):
        assert stream(split_at(text, [offset]), pii=pii) == wanted, offset
    assert stream(list(text), pii=pii) == wanted


@pytest.mark.parametrize("pii", [False, True])
def test_a_label_swallowed_by_a_key_still_redacts_its_secret(pii):
    """A key's characters can run into the next secret's label ("...sk-Bearer"):
    the token after the label is redacted too, whole or streamed at any split."""
    text = (
        "sk-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYsk-Bearer aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY"
    )
    whole = redact(text, pii=pii)
    assert whole == "[REDACTED:openai_key] [REDACTED:bearer]"
    for offset in range(len(text) + 1):
        assert stream(split_at(text, [offset]), pii=pii) == whole
    assert stream(list(text), pii=pii) == whole


def test_no_part_of_a_secret_is_emitted_before_it_is_known():
    secret = SAMPLES[0][1]
    output_filter = StreamFilter()
    emitted = ""
    for char in f"key {secret} end":
        emitted += output_filter.feed(char)
        assert secret[:3] not in emitted
    emitted += output_filter.finish()
    assert emitted == "key [REDACTED:openai_key] end"


def test_private_key_is_held_from_begin_to_end_across_many_chunks():
    text = f"Here:\n{PEM}\nThat is all."
    output_filter = StreamFilter()
    emitted = ""
    for index in range(0, len(text), 7):
        emitted += output_filter.feed(text[index : index + 7])
        assert "MIIE" not in emitted
    emitted += output_filter.finish()
    assert emitted == "Here:\n[REDACTED:private_key]\nThat is all."


@pytest.mark.parametrize("offset", range(len("Sure: " + CANARY + " ok") + 1))
def test_canary_split_at_any_offset_blocks_before_any_of_it_is_shown(offset):
    text = "Sure: " + CANARY + " ok"
    output_filter = StreamFilter(canary=CANARY)
    emitted = ""
    with pytest.raises(BlockedOutput):
        for chunk in split_at(text, [offset, offset + 5]):
            emitted += output_filter.feed(chunk)
        output_filter.finish()
    assert "Sure: ".startswith(emitted)


def test_canary_fed_one_character_at_a_time_blocks_at_its_last_character():
    output_filter = StreamFilter(canary=CANARY)
    emitted = ""
    for char in "x " + CANARY[:-1]:
        emitted += output_filter.feed(char)
    assert emitted == "x "
    with pytest.raises(BlockedOutput):
        output_filter.feed(CANARY[-1])


def test_canary_inside_a_secret_still_blocks():
    output_filter = StreamFilter(canary=CANARY)
    with pytest.raises(BlockedOutput):
        output_filter.feed("sk-" + "a1" * 12)
        output_filter.feed(CANARY)


def test_a_prefix_of_the_canary_that_goes_nowhere_is_released():
    output_filter = StreamFilter(canary=CANARY)
    assert output_filter.feed("cnry-01") == ""
    assert output_filter.feed("x, and more").startswith("cnry-01x, and")
    assert output_filter.pending in ("", "more")


def test_blocked_filter_stays_blocked():
    output_filter = StreamFilter(canary=CANARY)
    with pytest.raises(BlockedOutput):
        output_filter.feed(CANARY)
    with pytest.raises(BlockedOutput):
        output_filter.feed("harmless")
    with pytest.raises(BlockedOutput):
        output_filter.finish()


def test_internal_failure_surfaces_as_blocked_output(monkeypatch):
    output_filter = StreamFilter()

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(output_filter, "_drain", broken)
    with pytest.raises(BlockedOutput) as caught:
        output_filter.feed("hello")
    assert "boom" in caught.value.detail
    with pytest.raises(BlockedOutput):
        output_filter.finish()


def test_non_text_chunk_fails_closed():
    with pytest.raises(BlockedOutput):
        StreamFilter().feed(b"bytes")  # type: ignore[arg-type]


def test_feeding_after_finish_fails_closed():
    output_filter = StreamFilter()
    output_filter.feed("done")
    output_filter.finish()
    with pytest.raises(BlockedOutput):
        output_filter.feed("more")


ENGLISH = (
    "The committee met on Tuesday to discuss the budget. After a long debate, "
    "they agreed to fund three new projects: a library, a park and a school. "
    "Everyone seemed pleased with the outcome, although some questions remain "
    "about the timeline. Next steps will be shared by email on 12 March 2024. "
) * 20


def english_chunks(seed: int = 0) -> list[str]:
    generator = random.Random(seed)
    chunks, index = [], 0
    while index < len(ENGLISH):
        size = generator.randint(1, 5)
        chunks.append(ENGLISH[index : index + size])
        index += size
    return chunks


@pytest.mark.parametrize("pii", [False, True])
def test_english_prose_holds_back_at_most_the_last_partial_word(pii):
    output_filter = StreamFilter(canary=CANARY, pii=pii)
    held = []
    for chunk in english_chunks():
        output_filter.feed(chunk)
        # One-letter words wait with their blanks: they may be spaced-out letters.
        assert re.fullmatch(r"(?:\S )*\S*", output_filter.pending)
        held.append(len(output_filter.pending))
    print(
        f"pii={pii}: held back {sum(held) / len(held):.1f} chars on average, "
        f"{max(held)} at most"
    )


@pytest.mark.parametrize("pii", [False, True])
def test_per_chunk_cost_is_microseconds(pii):
    chunks = english_chunks(1)
    best = float("inf")
    for _ in range(5):
        output_filter = StreamFilter(canary=CANARY, pii=pii)
        # CPU time: on a busy machine, wall time mostly measures the neighbours.
        started = time.process_time()
        for chunk in chunks:
            output_filter.feed(chunk)
        output_filter.finish()
        best = min(best, (time.process_time() - started) / len(chunks))
    print(f"pii={pii}: {best * 1e6:.1f} us of CPU per 1-5 char chunk")
    assert best < 500e-6


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_texts(), st.lists(st.sampled_from(["feed", "tick", "flush"]), max_size=40))
def test_coalesced_chunks_emit_exactly_the_redacted_text(case, steps):
    """Scanning several chunks together, on a size or time limit or on `flush`,
    changes only when text is emitted, never what."""
    text, chunks = case
    clock = Clock()
    output_filter = StreamFilter(
        canary=CANARY, pii=True, coalesce_ms=8, coalesce_chars=16, clock=clock
    )
    emitted = ""
    steps = iter(steps)
    for chunk in chunks:
        for step in steps:
            if step == "feed":
                break
            if step == "tick":
                clock.now += 0.005
            else:
                emitted += output_filter.flush()
        emitted += output_filter.feed(chunk)
    assert emitted + output_filter.finish() == redact(text, pii=True)


def test_coalesced_chunks_wait_for_the_interval_or_the_size_limit():
    clock = Clock()
    output_filter = StreamFilter(coalesce_ms=8, coalesce_chars=32, clock=clock)
    assert output_filter.feed("First words ").rstrip() == "First words"  # at once
    assert output_filter.flush_due_in() is None
    assert output_filter.feed("and more ") == ""
    assert output_filter.flush_due_in() == pytest.approx(0.008)
    clock.now += 0.005
    assert output_filter.feed("words ") == ""
    assert output_filter.flush_due_in() == pytest.approx(0.003)
    assert output_filter.flush().strip() == "and more words"
    assert output_filter.flush_due_in() is None
    assert output_filter.feed("x" * 20 + " ") == ""  # within the interval
    released = output_filter.feed("y" * 20 + " ")  # the size limit
    assert released.strip().startswith("x" * 20)
    assert (released + output_filter.finish()).endswith("y" * 20 + " ")


def test_a_canary_in_collected_text_blocks_when_it_is_scanned():
    clock = Clock()
    output_filter = StreamFilter(canary=CANARY, coalesce_ms=8, clock=clock)
    assert output_filter.feed("Sure: ").rstrip() == "Sure:"
    assert output_filter.feed(CANARY) == ""
    with pytest.raises(BlockedOutput):
        output_filter.flush()
    with pytest.raises(BlockedOutput):
        output_filter.finish()
