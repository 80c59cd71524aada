"""Structured logs: one JSON line per record, a turn's lines carry its turn id, and
no secret reaches a line, however it is passed."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from chat.logs import JsonFormatter, RedactSecretsFilter, log_context

# Imported here, not in the test: importing the ASGI app sets logging up again
# (django.setup), which would drop the handler a fixture added.
from tests.test_consumers import connect, read_reply, send_frame

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 3


@pytest.fixture
def json_lines():
    """The root logger's records as the production handler writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def test_each_record_is_one_json_line_with_its_extras(json_lines):
    log = logging.getLogger("chat.test")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("it failed", extra={"turn_id": "abc123", "input_tokens": 12})
    (entry,) = json_lines()
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "chat.test"
    assert entry["turn_id"] == "abc123"
    assert entry["input_tokens"] == 12
    assert "ValueError: boom" in entry["exception"]


def test_the_log_context_tags_every_line_inside_it(json_lines):
    with log_context(turn_id="t-42"):
        logging.getLogger("openai").warning("retrying request")
        logging.getLogger("chat.limits").warning("slow backend")
    logging.getLogger("chat").warning("outside")
    inside, also_inside, outside = json_lines()
    assert inside["turn_id"] == also_inside["turn_id"] == "t-42"
    assert "turn_id" not in outside


def test_secrets_are_redacted_in_messages_extras_and_nested_values(json_lines):
    logging.getLogger("chat").warning(
        "calling with %s",
        OPENAI_KEY,
        extra={
            "detail": f"Incorrect API key provided: {OPENAI_KEY}",
            "request": {"headers": {"Authorization": f"Bearer {OPENAI_KEY}"}},
            "attempts": [f"key={OPENAI_KEY}"],
            "api_key": "anything-at-all",
            "output_tokens": 7,
        },
    )
    (entry,) = json_lines()
    line = json.dumps(entry)
    assert OPENAI_KEY not in line
    assert "A1b2C3d4" not in line
    assert entry["api_key"] == "[redacted]"
    assert entry["request"]["headers"]["Authorization"] == "[redacted]"
    assert entry["output_tokens"] == 7


@pytest.mark.django_db(transaction=True)
async def test_an_error_record_is_one_line_with_the_turn_id_and_no_secret(
    json_lines, user
):
    from chat.errors import ProviderUnavailable
    from chat.observability import records

    error = ProviderUnavailable(detail=f"HTTP 401: bad key {OPENAI_KEY}")
    await records.error_record(error, user=user, kind="reply", turn_id="f00dfeed1234")
    (entry,) = [e for e in json_lines() if e["logger"] == "chat.errors"]
    assert entry["turn_id"] == "f00dfeed1234"
    assert entry["code"] == "provider_unavailable"
    assert OPENAI_KEY not in json.dumps(entry)


@pytest.mark.django_db(transaction=True)
async def test_a_turn_logs_one_line_with_its_turn_id(json_lines, user, fake_model):
    comm = await connect(user)
    await comm.send_json_to(send_frame("Say hello"))
    await comm.receive_json_from()
    await read_reply(comm)
    await comm.disconnect()
    # The line is written once the end frame is out.
    for _ in range(100):
        turns = [e for e in json_lines() if e["message"] == "turn finished"]
        if turns:
            break
        await asyncio.sleep(0.02)
    assert len(turns) == 1
    assert len(turns[0]["turn_id"]) == 12
    assert turns[0]["status"] == "complete"
    assert (turns[0]["input_tokens"], turns[0]["output_tokens"]) == (11, 4)


SECRET = "Zq8v3kP2xR7mN4tW9yB6cD1e"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/accounts/invite/{SECRET}/", "/accounts/invite/[redacted]/"),
        (f"/accounts/confirm-email/{SECRET}/", "/accounts/confirm-email/[redacted]/"),
        (f"/share/{SECRET}/", "/share/[redacted]/"),
        (f"/share/{SECRET}/continue/", "/share/[redacted]/continue/"),
        (
            f"/accounts/password/reset/key/1a-{SECRET}/",
            "/accounts/password/reset/key/[redacted]/",
        ),
    ],
)
def test_secret_url_paths_never_reach_a_log_line(json_lines, client, path, logged):
    """Django logs a refused request's path ("Not Found: /path") with the request
    itself as an extra: the key or token in it is cut out of both."""
    response = client.get(path)
    logging.getLogger("django.request").warning(
        "Gone: %s", path, extra={"request": response.wsgi_request}
    )
    text = json.dumps(json_lines())
    assert SECRET not in text
    assert f"Gone: {logged}" in text and f"'{logged}'>" in text


def test_daphnes_access_log_goes_through_logging_without_secrets(json_lines):
    """bin/web's daphne writes its access log as records (chatproject/access_log.py),
    not raw lines on stdout, so the same filter applies."""
    from chatproject.access_log import AccessLog

    AccessLog()(
        "http",
        "complete",
        {
            "client": "203.0.113.9:5123",
            "method": "GET",
            "path": f"/accounts/confirm-email/{SECRET}/",
            "status": 302,
            "size": 0,
        },
    )
    (entry,) = json_lines()
    assert entry["logger"] == "daphne.access" and entry["status"] == 302
    assert SECRET not in json.dumps(entry)
    assert '"GET /accounts/confirm-email/[redacted]/"' in entry["message"]


def test_credentials_in_a_logged_query_string_are_redacted(json_lines):
    """daphne logs the whole URI: an OIDC callback's code and state, or a key a
    client put in the URL (and was refused for), stay out of the line."""
    from chatproject.access_log import AccessLog

    for uri in (
        f"/accounts/oidc/corp/login/callback/?code={SECRET}&state={SECRET}x",
        f"/v1/models?limit=5&API_KEY={SECRET}",
    ):
        AccessLog()(
            "http",
            "complete",
            {
                "client": "203.0.113.9:5123",
                "method": "GET",
                "path": uri,
                "status": 400,
                "size": 0,
            },
        )
    first, second = (entry["message"] for entry in json_lines())
    assert SECRET not in first + second
    assert "callback/?code=[redacted]&state=[redacted]" in first
    assert "/v1/models?limit=5&API_KEY=[redacted]" in second


@pytest.mark.django_db(transaction=True)
async def test_an_error_record_holds_no_secret_path():
    from chat.errors import InternalError
    from chat.models import ErrorRecord
    from chat.observability.records import error_record

    await error_record(
        InternalError(detail=f"failed on /accounts/invite/{SECRET}/"), kind="test"
    )
    record = await ErrorRecord.objects.aget(kind="test")
    assert SECRET not in record.detail and "/accounts/invite/[redacted]/" in (
        record.detail
    )
