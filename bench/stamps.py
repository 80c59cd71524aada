"""Emit times carried inside token text, so they survive any server that passes text.

Each token is ``q`` + nine base-26 letters + a space (11 characters): the endpoint's
CLOCK_MONOTONIC time in microseconds, modulo 26**9 (about 62 days). CLOCK_MONOTONIC
is one clock for every process on the machine, so the load generator can subtract.
Fixed width means a token split across frames (hold-back buffers, coalescing) is still
decoded once its last character arrives. Letters only: no digit runs for PII or card
number redaction to match.
"""

from __future__ import annotations

import time

WIDTH = 11
_DIGITS = 9
MODULUS = 26**_DIGITS
_A = ord("a")


def now_us() -> int:
    return time.monotonic_ns() // 1000


def encode(t_us: int) -> str:
    """The token text for an emit time in microseconds."""
    t = t_us % MODULUS
    out = bytearray(b"q" + b"a" * _DIGITS + b" ")
    for i in range(_DIGITS, 0, -1):
        t, r = divmod(t, 26)
        out[i] = _A + r
    return out.decode()


def decode(token: str) -> int:
    """The emit time (modulo MODULUS) of one 11-character token; -1 if malformed."""
    if len(token) != WIDTH or token[0] != "q":
        return -1
    t = 0
    for ch in token[1 : WIDTH - 1]:
        d = ord(ch) - _A
        if not 0 <= d < 26:
            return -1
        t = t * 26 + d
    return t


def age_us(token: str, recv_us: int) -> int:
    """Receive time minus emit time for one token, or -1 if it does not decode."""
    t = decode(token)
    if t < 0:
        return -1
    return (recv_us - t) % MODULUS
