"""Fake secrets of many kinds, built by concatenation so that secret scanners do not
flag this file: (kind, text as written, the secret part that must never show)."""

from __future__ import annotations

_B = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY"  # 32 mixed characters
_H = "9f86d081884c7d659a2feaa0c55ad015"  # 32 hex
_AZ = "Zk3bQ9rT2mW8xN5vL1pJ7hG4dF6sA0cE" * 2 + "Yt7u=="

SAMPLES: list[tuple[str, str, str]] = [
    (
        "azure_storage_key",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey="
        + _AZ
        + ";EndpointSuffix=core.windows.net",
        _AZ,
    ),
    (
        "azure_storage_key",
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root"
        "ManageSharedAccessKey;SharedAccessKey=" + _AZ[:44],
        _AZ[:44],
    ),
    (
        "azure_sas_signature",
        "https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&sp=r&sig="
        + "kX9%2Bq3Lm7Zp0Vt5Rw8Ys2Nc4Hb6Jd1Ff3Gg5Hh7Jj9%3D",
        "kX9%2Bq3Lm7Zp0Vt5Rw8Ys2Nc4Hb6Jd1Ff3Gg5Hh7Jj9%3D",
    ),
    ("password", "DB_PASSWORD=" + "Pr0d-Db!pw-2024", "Pr0d-Db!pw-2024"),
    ("password", 'password: "' + "hunter2-Stag1ng" + '"', "hunter2-Stag1ng"),
    ("password", '{"password": "' + "s3cr3t-V4lue!" + '"}', "s3cr3t-V4lue!"),
    ("secret", "api_key = '" + "a8f9Kd02jf93kLm2x7Qe" + "'", "a8f9Kd02jf93kLm2x7Qe"),
    ("secret", "CLIENT_SECRET=" + "Xq7_v2Lk9Pz4Rt8Mw3Nb", "Xq7_v2Lk9Pz4Rt8Mw3Nb"),
    ("secret", "auth_token: " + "Tk8m2Vq9Lx4Zp7Rw3Yb6N", "Tk8m2Vq9Lx4Zp7Rw3Yb6N"),
    (
        "aws_secret_key",
        "the key is " + "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY" + " ok",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "slack_webhook",
        "https://hooks.slack.com/services/" + "T0123ABCD/B0456EFGH/" + _B[:24],
        "T0123ABCD/B0456EFGH/" + _B[:24],
    ),
    ("google_oauth_secret", "GOCSPX-" + _B[:28], _B[:28]),
    ("huggingface_token", "hf_" + _B + "Zq", _B + "Zq"),
    ("gitlab_token", "glpat-" + _B[:20], "glpat-" + _B[:20]),
    ("npm_token", "npm_" + _B + "Ab12", "npm_" + _B + "Ab12"),
    (
        "pypi_token",
        "pypi-AgEIcHlwaS5vcmc" + "CJDk2" + _B + _B[:12],
        "CJDk2" + _B + _B[:12],
    ),
    (
        "sendgrid_key",
        "SG." + _B[:22] + "." + _B + _B[:11],
        _B[:22] + "." + _B + _B[:11],
    ),
    ("twilio_key", "SK" + _H, _H),
    ("telegram_bot_token", "123456789:" + "AA" + _B + "z", "AA" + _B + "z"),
    ("digitalocean_token", "dop_v1_" + _H + _H, _H + _H),
    ("payment_card", "card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("payment_card", "pay with 5555555555554444 today", "5555555555554444"),
    ("iban", "IBAN: GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "to DE89370400440532013000 now", "DE89370400440532013000"),
    ("github_token", "ghp" + "_" + _B + "1234", _B + "1234"),
    ("openai_key", "sk-" + "proj-" + _B + _B, _B + _B),
    ("shopify_token", "shpat_" + _H, _H),
    ("linear_key", "lin_api_" + _B + "abcd1234", _B + "abcd1234"),
    (
        "groq_key",
        "gsk_" + _B + "Zq8Wx2Lk7Mn4Pb9Rt3Vc6Ys1",
        _B + "Zq8Wx2Lk7Mn4Pb9Rt3Vc6Ys1",
    ),
    ("vault_token", "hvs." + _B, _B),
    (
        "age_secret_key",
        "AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2,
        "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
    ),
]

# Ordinary text that mentions the words the rules look for: left as written.
ORDINARY = [
    "Your password: must be at least 12 characters long.",
    "Choose a strong password, e.g. a passphrase of four random words.",
    'Read it with api_key = os.environ["OPENAI_API_KEY"] and never hard-code it.',
    "password = getpass.getpass()",
    "token = tokenizer.encode(text)",
    "The secret: practice every day.",
    "Set max_tokens=256 and temperature=0.7.",
    "The commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it.",
    "Call 1-800-555-0199 or order #4111111111111112 (not a card).",
    "It costs 1234 5678 9012 3456 points? No, that is not a card number.",
    "Use a token: <your-token-here> in the header.",
    "The SECRET_KEY setting is read from the environment.",
    "In 2024 the population was 1,234,567,890 people.",
    "Significant figures: 3.14159 and 2.71828.",
    "password=${DB_PASSWORD}",
    "export API_KEY=your-api-key",
    "ThisIsAnOrdinaryCamelCaseIdentifierOkay fine",
    "A sha256 is 64 hex digits: "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "See https://docs.python.org/3/library/re.html#module-re for details.",
]
