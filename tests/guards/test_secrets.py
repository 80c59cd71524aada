"""Redaction of secrets and personal data (chat.guards.secrets)."""

from __future__ import annotations

import re

import pytest

from chat.guards.secrets import KINDS, MAX_SECRET_LEN, redact, redactor

# Fake secrets in each shape, built by concatenation so that secret scanners do not
# flag this file. (kind, text as written, the same text redacted)
_BODY = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SAMPLES = [
    ("openai_key", "sk-" + _BODY, "[REDACTED:openai_key]"),
    ("openai_key", "sk-proj-" + _BODY + "-" + _BODY, "[REDACTED:openai_key]"),
    ("anthropic_key", "sk-ant-api03-" + _BODY, "[REDACTED:anthropic_key]"),
    ("google_api_key", "AIza" + "Sy" + _BODY + "a", "[REDACTED:google_api_key]"),
    ("aws_access_key_id", "AKIA" + "IOSFODNN7EXAMPLE", "[REDACTED:aws_access_key_id]"),
    ("aws_access_key_id", "ASIA" + "Y34FZKBOKMUTVV7A", "[REDACTED:aws_access_key_id]"),
    (
        "aws_secret_key",
        "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED:aws_secret_key]",
    ),
    (
        "aws_secret_key",
        '"SecretAccessKey": "' + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" + '"',
        '"SecretAccessKey": "[REDACTED:aws_secret_key]"',
    ),
    ("github_token", "ghp" + "_" + _BODY + "1234", "[REDACTED:github_token]"),
    ("github_token", "gho" + "_" + _BODY + "1234", "[REDACTED:github_token]"),
    ("github_token", "github" + "_pat_11A" + _BODY, "[REDACTED:github_token]"),
    ("slack_token", "xox" + "b-1234567890-" + _BODY, "[REDACTED:slack_token]"),
    ("stripe_key", "sk" + "_live_" + _BODY, "[REDACTED:stripe_key]"),
    ("stripe_key", "rk" + "_live_" + _BODY, "[REDACTED:stripe_key]"),
    ("private_key", PEM, "[REDACTED:private_key]"),
    ("jwt", JWT, "[REDACTED:jwt]"),
    (
        "password",
        "postgres://alice:" + "s3cr@t-pw" + "@db.example.com:5432/app",
        "postgres://alice:[REDACTED:password]@db.example.com:5432/app",
    ),
    (
        "password",
        "redis://:" + "hunter2hunter2" + "@cache.internal:6379/0",
        "redis://:[REDACTED:password]@cache.internal:6379/0",
    ),
    (
        "bearer",
        "Authorization: Bearer " + _BODY,
        "Authorization: Bearer [REDACTED:bearer]",
    ),
    (
        "bearer",
        "curl -H 'authorization: Basic " + "YWxpY2U6czNjcjN0" + "'",
        "curl -H 'authorization: Basic [REDACTED:bearer]'",
    ),
    ("bearer", "Bearer " + _BODY, "Bearer [REDACTED:bearer]"),
]
PII_SAMPLES = [
    ("email", "bob.smith+news@mail.example.co.uk", "[REDACTED:email]"),
    ("phone", "+44 20 7946 0958", "[REDACTED:phone]"),
    ("phone", "+1 (555) 123-4567", "[REDACTED:phone]"),
    ("phone", "+4915112345678", "[REDACTED:phone]"),
    ("phone", "(555) 123-4567", "[REDACTED:phone]"),
    ("phone", "555-123-4567", "[REDACTED:phone]"),
    ("phone", "1-555-123-4567", "[REDACTED:phone]"),
]


@pytest.mark.parametrize(("kind", "text", "expected"), SAMPLES)
def test_each_secret_kind_is_redacted_in_context(kind, text, expected):
    sentence = f"Here it is: {text} (keep it safe)."
    assert redact(sentence) == f"Here it is: {expected} (keep it safe)."
    assert kind in KINDS


@pytest.mark.parametrize(("kind", "text", "expected"), PII_SAMPLES)
def test_personal_data_is_redacted_only_when_asked(kind, text, expected):
    sentence = f"Reach me at {text} today."
    assert redact(sentence, pii=True) == f"Reach me at {expected} today."
    assert redact(sentence) == sentence


@pytest.mark.parametrize(
    "text",
    [
        "We use sk-learn-compatible-estimators-for-everything here.",
        "The task-force-coordination-meeting-agenda is attached.",
        "AKIA is a prefix; AKIAshort is not a key.",
        "The bearer of bad news, and bearer authentication/authorization.",
        "Authorization: required for all endpoints.",
        "See https://example.com:8080/path@section and user@host.",
        "-----BEGIN PUBLIC KEY----- is not a secret.",
        "eyJ alone, or eyJhbGciOiJIUzI1NiJ9 without a payload.",
    ],
)
def test_lookalike_prose_is_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 we sold 1,234 units; call 911 or extension 4567.",
        "Released 2024-01-15, version 1.2.3, build 20240115.",
        "Order 5551234567 shipped; timestamp 1700000000.",
        "Scores: 12 - 345 - 6789",
    ],
)
def test_numbers_that_are_not_phone_numbers_are_left_alone(text):
    assert redact(text, pii=True) == text


def test_truncated_private_key_is_redacted_to_the_end_of_its_body():
    truncated = PEM.split("-----END")[0]
    text = f"key:\n{truncated}"
    assert redact(text) == "key:\n[REDACTED:private_key]"


def test_a_token_longer_than_its_bound_is_redacted_up_to_the_bound():
    text = "sk-" + "a1" * 200
    assert redact(text).startswith("[REDACTED:openai_key]")
    assert len(redact(text)) < len(text) - 200


@pytest.mark.parametrize(("kind", "text", "expected"), SAMPLES + PII_SAMPLES)
def test_redaction_is_idempotent(kind, text, expected):
    once = redact(f"x {text} y", pii=True)
    assert redact(once, pii=True) == once


def test_max_secret_len_bounds_every_match_and_hold():
    """The streaming filter relies on this bound; re's parser knows the widths."""
    parser = pytest.importorskip("re._parser")
    for pii in (False, True):
        compiled = redactor(pii=pii)
        for pattern in (compiled.pattern, *(hold for hold, _ in compiled.holds)):
            assert parser.parse(pattern.pattern).getwidth()[1] <= MAX_SECRET_LEN


def test_an_ordinary_log_line_is_left_alone():
    line = (
        "GET /api/v1/things?id=42 200 in 12ms user=alice agent=Mozilla/5.0 "
        "(X11; Linux x86_64) referer=https://example.com/page"
    )
    assert redact(line) == line


def test_kinds_are_named_in_markers():
    assert re.fullmatch(r"\[REDACTED:[a-z_]+\]", redact(SAMPLES[0][1]))
