"""Key names, shared by both backends. Each user's keys share one hash tag
({u:ID}) and each endpoint's another, so every script touches a single Redis
Cluster slot."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from django.conf import settings

from chat.limits.periods import Window


@dataclass(frozen=True)
class UserKeys:
    base: str

    @property
    def rate(self) -> str:
        """Sorted set: admission id -> when it was admitted."""
        return f"{self.base}:rate"

    @property
    def slots(self) -> str:
        """Sorted set: admission id -> lease expiry (replies in flight)."""
        return f"{self.base}:slots"

    @property
    def background(self) -> str:
        """Sorted set: admission id -> lease expiry (background calls in flight,
        e.g. titles: apart from the reply slots, so they never make a send busy)."""
        return f"{self.base}:background"

    def budget(self, window: Window) -> str:
        """Hash of one period: used tokens (t) and cost units (c), and live holds
        (h:<admission id> -> "tokens cost lease-expiry")."""
        return f"{self.base}:used:{window.period}:{window.stamp}"


@dataclass(frozen=True)
class EndpointKeys:
    queue: str  # sorted set: ticket -> arrival number (FIFO)
    waiters: str  # sorted set: ticket -> when its waiter counts as gone
    seq: str  # arrival counter
    inflight: str  # sorted set: ticket -> lease expiry
    log: str  # sorted set: "tokens:ticket" -> when granted (RPM and TPM)
    pause: str  # string: epoch seconds until which the endpoint is paused
    tokens: str  # string: the tokens of the log's entries, kept as they come and go


def user_keys(user_id: object) -> UserKeys:
    return UserKeys(f"{settings.CHAT_LIMITS_KEY_PREFIX}:{{u:{user_id}}}")


def endpoint_keys(endpoint: str) -> EndpointKeys:
    # Hashed: URLs may hold braces, which would break the hash tag.
    tag = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    base = f"{settings.CHAT_LIMITS_KEY_PREFIX}:{{up:{tag}}}"
    names = [field.name for field in dataclasses.fields(EndpointKeys)]
    return EndpointKeys(*(f"{base}:{name}" for name in names))
