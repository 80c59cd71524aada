"""JSON read within limits: size and nesting are checked before the parser runs, so
a frame of ten thousand `[` is a typed `invalid` error, never a RecursionError.

The depth scan is linear and runs in C: strings are blanked by one regex, then the
brackets are counted. Most frames nest two levels, so the common case is a count of
brackets that cannot exceed the limit, and no scan at all.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from chat.errors import InvalidInput, TooLong

__all__ = ["MAX_DEPTH", "loads_limited"]

# Client frames nest two levels; anything past this is not a frame of ours.
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside JSON strings (an upper bound for
    malformed text, which the parser then refuses anyway)."""
    if text.count("[") + text.count("{") == 0:
        return 0
    bare = _STRING.sub('""', text) if '"' in text else text
    steps = (_STEP[bracket] for bracket in _BRACKETS.findall(bare))
    return max(accumulate(steps, initial=0))


def loads_limited(
    text: str, *, max_bytes: int, max_depth: int = MAX_DEPTH, what: str = "frame"
):
    """`json.loads` that refuses oversized or too deeply nested input first."""
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise TooLong(f"That {what} is too large.")
    if text.count("[") + text.count("{") > max_depth and (
        nesting_depth(text) > max_depth
    ):
        raise InvalidInput(f"That {what} is nested too deeply.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(f"That {what} is not valid JSON.") from None
