"""The rule set (chat/guards/data/secret_rules.toml): at least 60 kinds, checks that
keep prose and code as written, disguises undone, and the streaming guarantee that
no 8 consecutive characters of a secret reach the socket at any split."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.guards.output_filter import StreamFilter
from chat.guards.redaction import redact_reply
from chat.guards.secrets import KINDS, redact
from tests.guards.secret_samples import ORDINARY, SAMPLES

PII_KINDS = {"email", "phone"}


def stream(chunks: list[str], **options) -> str:
    output_filter = StreamFilter(**options)
    return "".join(output_filter.feed(c) for c in chunks) + output_filter.finish()


def leaked(secret: str, shown: str, width: int = 8) -> str | None:
    """The first `width` consecutive characters of the secret that were shown (with
    disguise characters and blanks taken out of what was shown)."""
    plain = re.sub(r"[\s\u00ad\u200b-\u200f\u2060-\u2064\ufeff*`~>]", "", shown)
    secret = re.sub(r"\s", "", secret)
    for start in range(len(secret) - width + 1):
        if secret[start : start + width] in plain:
            return secret[start : start + width]
    return None


def test_rule_set_covers_at_least_sixty_kinds():
    assert len(KINDS - PII_KINDS) >= 60


@pytest.mark.parametrize(("kind", "text", "secret"), SAMPLES)
def test_each_kind_is_redacted(kind, text, secret):
    shown = redact_reply(text)
    assert f"[REDACTED:{kind}]" in shown
    assert leaked(secret, shown) is None


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_as_written(text):
    assert redact_reply(text) == text
    assert redact(text) == text


def test_labels_stay_readable():
    assert redact_reply("DB_PASSWORD=Pr0d-Db!pw-2024") == (
        "DB_PASSWORD=[REDACTED:password]"
    )
    assert redact_reply('password: "hunter2-Stag1ng"') == (
        'password: "[REDACTED:password]"'
    )


def test_cards_and_ibans_need_valid_checksums():
    assert redact_reply("4111 1111 1111 1112") == "4111 1111 1111 1112"
    assert redact_reply("GB82 WEST 1234 5698 7654 33") == "GB82 WEST 1234 5698 7654 33"


ZW, SHY = "\u200b", "\u00ad"


def _disguises(secret: str) -> dict[str, str]:
    middle = len(secret) // 2
    return {
        "zero_width": ZW.join(secret[i : i + 5] for i in range(0, len(secret), 5)),
        "soft_hyphen": SHY.join(secret[i : i + 7] for i in range(0, len(secret), 7)),
        "bold_split": f"{secret[:middle]}**{secret[middle:]}**",
        "code_split": f"`{secret[:middle]}``{secret[middle:]}`",
        "wrapped": f"{secret[:middle]}\n{secret[middle:]}",
        "spaced": " ".join(secret),
    }


DISGUISED = [
    ("ghp_" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY1234", "github_token"),
    ("glpat-" + "aB3dE5fG7hJ9kL1mN2pQ", "gitlab_token"),
    ("hf_" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYZq", "huggingface_token"),
    ("sk-" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY", "openai_key"),
    ("AKIA" + "IOSFODNN7EXAMPLE", "aws_access_key_id"),
]


@pytest.mark.parametrize(("secret", "kind"), DISGUISED)
@pytest.mark.parametrize("disguise", list(_disguises("x" * 40)))
def test_disguised_secrets_are_redacted_and_the_rest_keeps_its_characters(
    secret, kind, disguise
):
    hidden = _disguises(secret)[disguise]
    text = f"Here it is: {hidden} \u2014 keep it safe."
    shown = redact_reply(text)
    assert leaked(secret, shown) is None, shown
    assert shown.startswith("Here it is: ") and shown.endswith(" \u2014 keep it safe.")
    assert "[REDACTED:" in shown


def _cases() -> list[tuple[str, str]]:
    cases = [(text, secret) for _, text, secret in SAMPLES]
    for secret, _ in DISGUISED:
        for name, hidden in _disguises(secret).items():
            cases.append((hidden, secret))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("text", "secret"), CASES)
def test_no_eight_characters_of_a_secret_reach_the_socket_at_any_split(text, secret):
    reply = f"Sure.\n{text}\nDone."
    for offset in range(len(reply) + 1):
        shown = stream([reply[:offset], reply[offset:]], canary="cnry-0123456789ab")
        assert leaked(secret, shown) is None, (offset, shown)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), st.randoms(use_true_random=False), st.booleans())
def test_no_eight_characters_of_a_secret_reach_the_socket_in_any_chunking(
    case, rng, pii
):
    text, secret = case
    reply = f"Here: {text} and more text after it."
    chunks, at = [], 0
    while at < len(reply):
        size = rng.randint(1, 7)
        chunks.append(reply[at : at + size])
        at += size
    shown = stream(chunks, pii=pii)
    assert leaked(secret, shown) is None
    assert shown == redact_reply(reply, pii=pii)


def test_every_kind_streams_exactly_as_the_whole_reply_redacted():
    rng = random.Random(7)
    for _, text, _ in SAMPLES:
        reply = f"Value:\n{text}\nEnd."
        cuts = sorted(rng.sample(range(len(reply)), 6))
        pieces = [reply[a:b] for a, b in zip([0, *cuts], [*cuts, len(reply)])]
        assert stream(pieces) == redact_reply(reply)
