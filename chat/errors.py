"""One error hierarchy: each error carries a stable code, a message for people, its
HTTP status and, where it applies, how many seconds until a retry can succeed.

The edges map these to frames in one place (chat/protocol.py's `error_frame` on the
socket, chat/responses.py's `error_response` over HTTP, where the status applies to
a request refused before its stream starts); anything else that escapes is logged,
recorded and answered with a generic `internal` error.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error a client may see."""

    code = "internal"
    message = "Something went wrong on our side. Please try again."
    status = 500
    retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        self.message = message or self.message
        self.retry_after = retry_after
        # Operator-only context (never sent to the browser).
        self.detail = detail
        super().__init__(self.message)


class InvalidInput(ChatError):
    """The frame or request is malformed or names something that does not exist."""

    code = "invalid"
    message = "That request was not understood."
    status = 400


class NotFound(InvalidInput):
    """The object does not exist or belongs to someone else (indistinguishable)."""

    message = "That conversation does not exist."
    status = 404


class TooLong(ChatError):
    """The message is longer than the limit."""

    code = "too_long"
    message = "That message is too long."
    status = 413


class RateLimited(ChatError):
    """Too many requests in the window; retry_after says when to try again."""

    code = "rate_limited"
    message = "You are sending messages too quickly."
    status = 429
    retryable = True


class Busy(ChatError):
    """A reply is already in flight, or the service is saturated."""

    code = "busy"
    message = "A reply is already being written. Wait for it or press Stop."
    status = 429
    retryable = True


class BudgetExhausted(ChatError):
    """The user's token or cost budget for the period is spent."""

    code = "budget_exhausted"
    message = "Your usage budget for this period is spent."
    status = 429


class BlockedInput(ChatError):
    """The input guard refused the message."""

    code = "blocked_input"
    message = "This message was blocked by the safety filter."
    status = 422


class BlockedOutput(ChatError):
    """The output filter stopped the reply."""

    code = "blocked_output"
    message = "The reply was stopped by the safety filter."


class ToolResultFlagged(ChatError):
    """A tool's result looked like instructions aimed at the model; recorded, and
    the model got it quoted as data (or not at all, CHAT_TOOL_FLAGGED)."""

    code = "tool_injection"
    message = "A tool result looked like an injection attempt."
    status = 200


class ProviderUnavailable(ChatError):
    """The model provider failed or could not be reached."""

    code = "provider_unavailable"
    message = "The language model is unavailable right now. Please try again."
    status = 503
    retryable = True


class ProviderTimeout(ChatError):
    """The model provider did not answer in time."""

    code = "timeout"
    message = "The language model took too long to answer. Please try again."
    status = 504
    retryable = True


class AccountBlocked(ChatError):
    """The account was blocked (made inactive) after its socket opened."""

    code = "account_blocked"
    message = "Your account has been blocked, so no reply was started."
    status = 403


class Unauthenticated(ChatError):
    """The request carries no valid session."""

    code = "unauthenticated"
    message = "Log in first."
    status = 401


class EmailUnverified(ChatError):
    """The account came through open sign-up and has not confirmed its email."""

    code = "email_unverified"
    message = (
        "Confirm your email address first: follow the link we sent you, then try again."
    )
    status = 403


class InternalError(ChatError):
    """An unexpected failure; details are in the logs and the error records."""


ERROR_CODES = {
    cls.code: cls
    for cls in (
        Unauthenticated,
        InvalidInput,
        TooLong,
        RateLimited,
        Busy,
        BudgetExhausted,
        AccountBlocked,
        EmailUnverified,
        BlockedInput,
        BlockedOutput,
        ProviderUnavailable,
        ProviderTimeout,
        InternalError,
    )
}
