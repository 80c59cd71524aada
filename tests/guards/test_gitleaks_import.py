# ruff: noqa: E501
"""Importing a gitleaks rule file: the shapes that translate exactly are kept,
compile, and redact; the rest is reported as skipped."""

from __future__ import annotations

import random

from bench.guards_eval import secrets_to_try
from chat.guards import gitleaks_import
from chat.guards.redaction import redact_reply
from chat.guards.secrets import _compile, load_rules

# Written in gitleaks' format for this test (not gitleaks' own rules).
CONFIG = r"""
[[rules]]
id = "acme-token"
regex = '''\b(acme_[a-zA-Z0-9]{32})(?:[\x60'"\s;]|\\[nr]|$)'''
keywords = ["acme_"]

[[rules]]
id = "widget-key"
regex = '''\b((?:wk1|wk2)_(?i)[a-f0-9]{24,})\b'''
keywords = ["wk1_", "wk2_"]

[[rules]]
id = "gadget-secret"
regex = '''(?i)[\w.-]{0,50}?(?:gadget)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9]{20})(?:[\x60'"\s;]|\\[nr]|$)'''
entropy = 3
keywords = ["gadget"]

[[rules]]
id = "lookaround"
regex = '''(?<=x)foo[a-z]{8}'''
keywords = ["foo"]

[[rules]]
id = "unkeyed"
regex = '''\bzz_[a-z]{10}\b'''
keywords = ["other"]
"""


def test_translatable_shapes_are_kept_and_the_rest_skipped():
    tokens, labelled, skipped = gitleaks_import.translate(CONFIG)
    assert [t["kind"] for t in tokens] == ["acme_token", "widget_key"]
    assert tokens[1]["prefixes"] == ["wk1_", "wk2_"]
    assert tokens[1]["max"] == 24 + gitleaks_import.OPEN_COUNT
    assert [rule["kind"] for rule in labelled] == ["gadget_secret"]
    assert skipped == ["lookaround", "unkeyed"]


def test_imported_rules_load_and_redact(tmp_path):
    checkout = tmp_path / "gitleaks"
    (checkout / "config").mkdir(parents=True)
    (checkout / "config" / "gitleaks.toml").write_text(CONFIG)
    (checkout / "LICENSE").write_text("MIT License\n")
    out = tmp_path / "data"
    assert gitleaks_import.main([str(checkout), "--out", str(out)]) == 0
    assert (out / "LICENSE.gitleaks").read_text() == "MIT License\n"
    rules = load_rules(out / "secret_rules_gitleaks.toml")
    redactor = _compile(rules)
    text = (
        "use acme_" + "Ab3" * 10 + "Zz here, wk2_" + "a1" * 14
        + " and GADGET_TOKEN = " + "k3j9x8m2p7q4r6t1v5w0"
    )  # fmt: skip
    assert redactor.redact(text) == (
        "use [REDACTED:acme_token] here, [REDACTED:widget_key] and "
        "GADGET_TOKEN = [REDACTED:gadget_secret]"
    )


def test_the_adopted_gitleaks_rules_each_redact_a_secret_of_their_shape():
    """The committed import (data/secret_rules_gitleaks.toml) is loaded with the
    built-in rules, and every prefix and label of every file redacts a random
    secret of its shape, with its licence beside it."""
    data = gitleaks_import.DATA
    assert "MIT" in (data / "LICENSE.gitleaks").read_text()
    imported = load_rules(data / "secret_rules_gitleaks.toml")
    assert len({rule.kind for rule in imported}) >= 60
    for kind, text, secret in secrets_to_try(random.Random(7)):
        shown = redact_reply(f"Here: {text} ok")
        assert secret not in shown and "[REDACTED:" in shown, kind
