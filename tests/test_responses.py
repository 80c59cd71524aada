"""A ChatError answers HTTP with its own status, as JSON or as one SSE event."""

import json

import pytest

from chat import errors
from chat.responses import encode_event, error_response

STATUSES = {
    errors.Unauthenticated: 401,
    errors.InvalidInput: 400,
    errors.NotFound: 404,
    errors.TooLong: 413,
    errors.RateLimited: 429,
    errors.Busy: 429,
    errors.BudgetExhausted: 429,
    errors.AccountBlocked: 403,
    errors.BlockedInput: 422,
    errors.ProviderUnavailable: 503,
    errors.ProviderTimeout: 504,
    errors.InternalError: 500,
}


@pytest.mark.parametrize(("error", "status"), STATUSES.items())
def test_each_error_answers_with_its_status_as_json(error, status):
    response = error_response(error())
    assert response.status_code == status
    assert json.loads(response.content) == {
        "code": error.code,
        "message": error.message,
    }


def test_a_blocked_account_is_refused_not_an_internal_error():
    response = error_response(errors.AccountBlocked(), sse=True)
    assert response.status_code == 403
    assert b'"code":"account_blocked"' in response.content.replace(b" ", b"")


def test_an_sse_refusal_is_one_error_event_with_the_client_id():
    response = error_response(errors.TooLong(), sse=True, client_id="c-1")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    event = response.content.decode()
    assert event.startswith("event: error\ndata: ")
    assert event.endswith("\n\n")
    frame = json.loads(event.split("data: ", 1)[1])
    assert frame["code"] == "too_long"
    assert frame["id"] == "c-1"


@pytest.mark.parametrize("sse", [False, True])
def test_retry_after_is_whole_seconds_of_at_least_one(sse):
    assert error_response(errors.RateLimited(retry_after=2.2), sse=sse)[
        "Retry-After"
    ] == ("3")
    assert error_response(errors.Busy(retry_after=0.1), sse=sse)["Retry-After"] == ("1")
    assert "Retry-After" not in error_response(errors.Busy(), sse=sse)


def test_an_event_carries_its_seq_as_id():
    event = encode_event({"type": "delta", "seq": 7, "text": "a\nb"}).decode()
    assert event.splitlines()[:2] == ["id: 7", "event: delta"]
    assert event.count("\n") == 4  # one data line, then the blank line
