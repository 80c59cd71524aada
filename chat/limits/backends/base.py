"""What a limits backend does: a handful of atomic operations, each implemented
twice with the same semantics (Lua scripts on Redis, plain Python in process).
Every decision is taken inside one operation, so no request can slip between a
check and its commit, however many arrive at once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from chat.limits.keys import EndpointKeys
from chat.rate_rules import RateRule

# Seconds a log entry counts towards an endpoint's per-minute limits.
MINUTE = 60.0

# Outcomes of user_admit.
OK = "ok"
RATE = "rate"  # the rate limit: retry_after says when
BUSY = "busy"  # the user's concurrency limit
BUDGET = "budget"  # a budget is spent (even without the holds of live replies)
HELD = "held"  # the budget is only taken by holds of replies in flight
SEED = "seed"  # a period counter is missing: seed it from the ledger, then retry

# Outcomes of upstream_acquire (OK too).
WAIT = "wait"  # queued (position) or at the head but out of capacity
PAUSED = "paused"  # the endpoint is paused after a 429: retry_after says how long
FULL = "full"  # the queue is full: not queued


class BackendUnavailable(Exception):
    """The backend's store cannot be reached (Redis is down or timing out)."""


@dataclass(frozen=True)
class BudgetCounter:
    """One period's counter a reply is checked against and held in."""

    key: str
    tokens_limit: int | None
    cost_limit: int | None  # cost units (see budgets.to_units)
    ttl: int  # seconds the counter must outlive "now" (to period end, plus grace)


@dataclass(frozen=True)
class UserAsk:
    rate_key: str
    slots_key: str
    admission_id: str
    now: float
    lease_until: float
    rules: tuple[RateRule, ...]
    max_concurrent: int
    counters: tuple[BudgetCounter, ...]
    tokens: int
    cost: int

    @property
    def slot_ttl(self) -> int:
        return int(self.lease_until - self.now) + 2


@dataclass(frozen=True)
class UserDecision:
    outcome: str
    retry_after: float = 0.0
    # For BUDGET, HELD and SEED: which counters (indexes into UserAsk.counters);
    # for BUDGET also which limit ran out: "t" (tokens), "c" (cost) or "tc".
    counters: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class CounterState:
    exists: bool
    tokens: int = 0
    cost: int = 0
    held_tokens: int = 0
    held_cost: int = 0


@dataclass(frozen=True)
class UpstreamAsk:
    keys: EndpointKeys
    ticket: str
    now: float
    queue_max: int
    waiter_until: float
    lease_until: float
    max_inflight: int | None
    rpm: int | None
    tpm: int | None
    tokens: int

    @property
    def ttl(self) -> int:
        """Idle upstream keys are dropped after this many seconds."""
        return 3600

    @property
    def log_member(self) -> str:
        return log_member(self.ticket, self.tokens)


@dataclass(frozen=True)
class UpstreamDecision:
    outcome: str
    position: int = 0  # 0-based place in the queue
    retry_after: float = 0.0  # known wait (pause or per-minute window), else 0


@dataclass(frozen=True)
class UpstreamState:
    queued: int
    inflight: int
    paused_until: float


def log_member(ticket: str, tokens: int) -> str:
    return f"{tokens}:{ticket}"


def hold_value(tokens: int, cost: int, lease_until: float) -> str:
    return f"{tokens} {cost} {lease_until!r}"


class LimitsBackend(ABC):
    name: str

    @abstractmethod
    async def user_admit(self, ask: UserAsk) -> UserDecision:
        """Check rate, concurrency and budgets; if all allow, record the request,
        take a slot and hold the reservation in each counter, all at once."""

    @abstractmethod
    async def user_renew(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        until: float,
        ttl: int,
    ) -> bool:
        """Extend a live admission's slot and holds; False if its slot is gone."""

    @abstractmethod
    async def user_settle(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        tokens: int,
        cost: int,
    ) -> int:
        """Free the slot and turn each hold into real usage; returns how many holds
        were settled (0 when already settled or charged on expiry)."""

    @abstractmethod
    async def counter_seed(self, *, key: str, tokens: int, cost: int, ttl: int) -> bool:
        """Create a period counter from the ledger's totals unless it exists."""

    @abstractmethod
    async def counter_reset(self, *, key: str, ttl: int) -> None:
        """Set a period counter's use to zero (creating it, so the ledger does not
        seed it again); holds of replies in flight stay."""

    @abstractmethod
    async def counter_read(self, *, keys: list[str], now: float) -> list[CounterState]:
        """Used and held amounts per counter, for display (changes nothing)."""

    @abstractmethod
    async def upstream_acquire(self, ask: UpstreamAsk) -> UpstreamDecision:
        """Take an upstream slot if this ticket is first in line (or the queue is
        empty) and the endpoint has capacity; else queue it and say where."""

    @abstractmethod
    async def upstream_renew(
        self, *, keys: EndpointKeys, ticket: str, until: float
    ) -> bool:
        """Extend a granted slot's lease; False if it is gone."""

    @abstractmethod
    async def upstream_release(
        self, *, keys: EndpointKeys, ticket: str, forget: str | None
    ) -> None:
        """Leave the queue or give the slot back; `forget` also removes a log entry
        (a request that never reached the provider, e.g. a cache hit)."""

    @abstractmethod
    async def upstream_pause(
        self, *, keys: EndpointKeys, until: float, now: float
    ) -> float:
        """Pause the endpoint until `until` unless already paused longer; returns the
        pause in force."""

    @abstractmethod
    async def upstream_state(self, *, keys: EndpointKeys, now: float) -> UpstreamState:
        """Queue length, slots in flight and pause, for display and tests."""
