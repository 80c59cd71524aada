"""The limits' own refusal: a `busy` (so clients need no new code) that says why."""

from chat.errors import Busy


class LimitsUnavailable(Busy):
    """Limits cannot be checked (Redis is unreachable), so no reply is started."""

    message = (
        "Usage limits can't be checked right now, so no reply was started. "
        "Please try again in a moment."
    )
