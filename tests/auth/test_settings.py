"""The account settings as the environment sets them (read in a fresh process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, chatproject.settings as s; print(json.dumps({"
    "'signup': s.CHAT_SIGNUP, 'cache': s.CACHES['default'], "
    "'mailer': s.MAILERS['default']['BACKEND'].rsplit('.', 2)[-2]}))"
)


def settings_with(**env: str) -> dict:
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "DJANGO"))
    }
    keep.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**keep, "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-1500:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({"DEBUG": "0"}, "closed"),
        ({"DEBUG": "1"}, "open"),
        ({"DEBUG": "0", "CHAT_SIGNUP": "invite"}, "invite"),
        ({"DEBUG": "0", "CHAT_SIGNUP_ENABLED": "1"}, "open"),
        ({"DEBUG": "1", "CHAT_SIGNUP_ENABLED": "0"}, "closed"),
    ],
)
def test_sign_up_mode_defaults_and_the_old_switch(env, mode):
    assert settings_with(**env)["signup"] == mode


def test_cache_is_redis_under_the_key_prefix_with_redis_url():
    with_redis = settings_with(
        DEBUG="0", REDIS_URL="redis://127.0.0.1:6379/5", REDIS_KEY_PREFIX="prod"
    )
    assert with_redis["cache"]["BACKEND"].endswith("RedisCache")
    assert with_redis["cache"]["LOCATION"] == "redis://127.0.0.1:6379/5"
    assert with_redis["cache"]["KEY_PREFIX"] == "prod"
    assert settings_with(DEBUG="1")["cache"]["BACKEND"].endswith("LocMemCache")


def test_email_is_the_console_in_development_and_smtp_in_production():
    assert settings_with(DEBUG="1")["mailer"] == "console"
    assert settings_with(DEBUG="0")["mailer"] == "smtp"


def test_app_json_is_safe_for_a_public_url():
    """Closed sign-up, the router as the one trusted proxy, a second factor for
    staff, a site-wide spend cap, and no DEBUG."""
    env = json.loads((ROOT / "app.json").read_text())["env"]
    assert env["CHAT_SIGNUP"]["value"] == "closed"
    assert "CHAT_SIGNUP_ENABLED" not in env and "DEBUG" not in env
    assert env["ALLAUTH_TRUSTED_PROXY_COUNT"]["value"] == "1"
    assert env["CHAT_MFA_REQUIRED_FOR_STAFF"]["value"] == "1"
    assert env["CHAT_SITE_BUDGET_COST_PER_DAY"]["value"]
