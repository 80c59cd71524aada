"""Errors of the OpenAI-compatible API, in OpenAI's body shape
(`{"error": {"message", "type", "param", "code"}}`) with the matching status.

Refusals of the turn pipeline (chat.errors) keep their status, code and message,
with OpenAI's error type added, so the API and the page agree on what was refused.
"""

from __future__ import annotations

import math

from django.http import JsonResponse

from chat.errors import ChatError

# OpenAI's error type by status, and the codes OpenAI's clients know by another name.
_TYPES = {401: "invalid_request_error", 403: "permission_error", 429: "requests"}
_RENAMED = {"rate_limited": "rate_limit_exceeded", "unauthenticated": "invalid_api_key"}


class ApiError(Exception):
    """A refusal of the API, carrying what OpenAI's clients read."""

    status = 400
    type = "invalid_request_error"
    code: str | None = "invalid"
    message = "That request was not understood."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.message
        self.status = status or self.status
        self.type = type or self.type
        self.code = code or self.code
        self.param = param
        self.retry_after = retry_after
        super().__init__(self.message)

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response


class InvalidApiKey(ApiError):
    """No key, or a malformed, unknown, revoked or expired one."""

    status = 401
    code = "invalid_api_key"
    message = "Incorrect or missing API key. Send it as 'Authorization: Bearer <key>'."


class AccountBlocked(ApiError):
    """The key is valid but its account is blocked (inactive)."""

    status = 403
    type = "permission_error"
    code = "account_blocked"
    message = "This API key's account is blocked."


class CredentialsInQuery(ApiError):
    """A key in the URL ends up in proxy and server logs: refused, never used."""

    code = "credentials_in_query"
    message = (
        "API keys are accepted only in the Authorization header, never in the "
        "URL (URLs are logged). Revoke this key and make a new one."
    )


class ModelNotFound(ApiError):
    status = 404
    code = "model_not_found"


def from_chat_error(error: ChatError) -> ApiError:
    """The API's form of a refusal from the turn pipeline, with its own status."""
    if error.code == "budget_exhausted":
        kind = "insufficient_quota"
    elif error.status >= 500:
        kind = "server_error"
    else:
        kind = _TYPES.get(error.status, "invalid_request_error")
    return ApiError(
        error.message,
        status=error.status,
        type=kind,
        code=_RENAMED.get(error.code, error.code),
        retry_after=error.retry_after,
    )
