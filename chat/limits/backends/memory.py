"""The in-process backend: the embedded default, and the fallback when Redis is down
and CHAT_LIMITS_ON_REDIS_ERROR is "local". Each operation mirrors its Lua script
(scripts.py) step by step, on a process-wide store with the same key names; none
awaits, so each is atomic on the event loop (a lock covers threads). Limits then
hold within this process only; tests/limits/test_parity.py checks both backends
answer alike."""

from __future__ import annotations

import threading
import time

from chat.limits.backends.base import (
    BUDGET,
    BUSY,
    FULL,
    HELD,
    MINUTE,
    OK,
    PAUSED,
    RATE,
    SEED,
    WAIT,
    CounterState,
    LimitsBackend,
    UpstreamAsk,
    UpstreamDecision,
    UpstreamState,
    UserAsk,
    UserDecision,
    hold_value,
    log_member,
)
from chat.limits.keys import EndpointKeys


class MemoryStore:
    """Sorted sets, hashes and strings with expiry: just what the operations need.
    Expiry runs on real (monotonic) time, like Redis's own TTLs."""

    def __init__(self) -> None:
        self.zsets: dict[str, dict[str, float]] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.strings: dict[str, str] = {}
        self._expiry: dict[str, float] = {}
        self._next_sweep = 0.0
        self.lock = threading.Lock()

    def zset(self, key: str) -> dict[str, float]:
        self._check(key)
        return self.zsets.setdefault(key, {})

    def hash(self, key: str) -> dict[str, str] | None:
        self._check(key)
        return self.hashes.get(key)

    def get(self, key: str) -> str | None:
        self._check(key)
        return self.strings.get(key)

    def expire(self, key: str, seconds: float) -> None:
        if any(key in space for space in (self.zsets, self.hashes, self.strings)):
            self._expiry[key] = time.monotonic() + seconds

    def delete(self, key: str) -> None:
        for space in (self.zsets, self.hashes, self.strings):
            space.pop(key, None)
        self._expiry.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        """Forget every key under a prefix (tests)."""
        with self.lock:
            for space in (self.zsets, self.hashes, self.strings, self._expiry):
                for key in [key for key in space if key.startswith(prefix)]:
                    self.delete(key)

    def _check(self, key: str) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            # Now and then drop every expired key, so idle users do not pile up.
            self._next_sweep = now + 60
            for other in [k for k, at in self._expiry.items() if at <= now]:
                self.delete(other)
        at = self._expiry.get(key)
        if at is not None and at <= now:
            self.delete(key)

    def tidy(self, key: str) -> None:
        """Drop an empty container, as Redis does."""
        for space in (self.zsets, self.hashes):
            if key in space and not space[key]:
                self.delete(key)


STORE = MemoryStore()


def _ordered(zset: dict[str, float]) -> list[tuple[str, float]]:
    """Members by score, then by member: Redis's order."""
    return sorted(zset.items(), key=lambda item: (item[1], item[0]))


def _weight(member: str) -> int:
    """The tokens of an upstream log entry ("tokens:ticket")."""
    return int(member.split(":", 1)[0])


def _tally(fields: dict[str, str], now: float, *, charge: bool) -> tuple:
    """A period counter's use (t, c) and live holds (h:<id> -> "tokens cost until").
    A hold whose lease ran out belongs to a dead process and counts as spent in
    full; with `charge` it is also written so (the admission check does; display
    does not)."""
    used_t = used_c = held_t = held_c = 0
    for field, value in list(fields.items()):
        if field == "t":
            used_t += int(value)
        elif field == "c":
            used_c += int(value)
        else:
            t, c, until = value.split(" ")
            if float(until) <= now:
                if charge:
                    fields["t"] = str(int(fields["t"]) + int(t))
                    fields["c"] = str(int(fields["c"]) + int(c))
                    del fields[field]
                used_t, used_c = used_t + int(t), used_c + int(c)
            else:
                held_t, held_c = held_t + int(t), held_c + int(c)
    return used_t, used_c, held_t, held_c


def _drop_upto(zset: dict[str, float], score: float) -> None:
    """ZREMRANGEBYSCORE -inf score."""
    for member in [m for m, s in zset.items() if s <= score]:
        del zset[member]


class MemoryBackend(LimitsBackend):
    name = "memory"

    def __init__(self, store: MemoryStore = STORE) -> None:
        self.store = store

    # --- Per user ------------------------------------------------------------------

    async def user_admit(self, ask: UserAsk) -> UserDecision:
        with self.store.lock:
            try:
                return self._user_admit(ask)
            finally:
                self.store.tidy(ask.rate_key)
                self.store.tidy(ask.slots_key)

    def _user_admit(self, ask: UserAsk) -> UserDecision:
        store, now = self.store, ask.now
        slots = store.zset(ask.slots_key)
        _drop_upto(slots, now)

        missing: list[tuple[int, str]] = []
        exhausted: list[tuple[int, str]] = []
        held: list[tuple[int, str]] = []
        for index, counter in enumerate(ask.counters):
            fields = store.hash(counter.key)
            if not fields:
                missing.append((index, ""))
                continue
            used_t, used_c, held_t, held_c = _tally(fields, now, charge=True)
            tl, cl = counter.tokens_limit, counter.cost_limit
            over_t = tl is not None and used_t + ask.tokens > tl
            over_c = cl is not None and used_c + ask.cost > cl
            if over_t or over_c:
                exhausted.append((index, "t" * over_t + "c" * over_c))
            elif (tl is not None and used_t + held_t + ask.tokens > tl) or (
                cl is not None and used_c + held_c + ask.cost > cl
            ):
                held.append((index, ""))
        if missing:
            return UserDecision(SEED, counters=tuple(missing))
        if exhausted:
            return UserDecision(BUDGET, counters=tuple(exhausted))

        rate = store.zset(ask.rate_key)
        wait = 0.0
        if ask.rules:
            longest = max(rule.window for rule in ask.rules)
            _drop_upto(rate, now - longest)
            for rule in ask.rules:
                since = now - rule.window
                count = sum(1 for score in rate.values() if score > since)
                if count >= rule.limit:
                    until = now + rule.window
                    if rule.limit > 0:
                        inside = sorted(s for s in rate.values() if s > since)
                        until = inside[count - rule.limit] + rule.window
                    wait = max(wait, until - now)
        if wait > 0:
            return UserDecision(RATE, retry_after=wait)
        if len(slots) >= ask.max_concurrent:
            return UserDecision(BUSY)
        if held:
            return UserDecision(HELD, counters=tuple(held))

        if ask.rules:
            rate[ask.admission_id] = now
            store.expire(ask.rate_key, int(longest) + 2)
        slots[ask.admission_id] = ask.lease_until
        store.expire(ask.slots_key, int(ask.lease_until - now) + 2)
        hold = hold_value(ask.tokens, ask.cost, ask.lease_until)
        for counter in ask.counters:
            store.hash(counter.key)[f"h:{ask.admission_id}"] = hold
        return UserDecision(OK)

    async def user_renew(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        until: float,
        ttl: int,
    ) -> bool:
        with self.store.lock:
            slots = self.store.zset(slots_key)
            if admission_id not in slots:
                self.store.tidy(slots_key)
                return False
            slots[admission_id] = until
            self.store.expire(slots_key, ttl)
            for key in counters:
                fields = self.store.hash(key) or {}
                hold = fields.get(f"h:{admission_id}")
                if hold:
                    t, c, _ = hold.split(" ")
                    fields[f"h:{admission_id}"] = hold_value(int(t), int(c), until)
            return True

    async def user_settle(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        tokens: int,
        cost: int,
    ) -> int:
        with self.store.lock:
            self.store.zset(slots_key).pop(admission_id, None)
            self.store.tidy(slots_key)
            settled = 0
            for key in counters:
                fields = self.store.hash(key)
                if fields and fields.pop(f"h:{admission_id}", None) is not None:
                    fields["t"] = str(int(fields["t"]) + tokens)
                    fields["c"] = str(int(fields["c"]) + cost)
                    settled += 1
            return settled

    async def counter_seed(self, *, key: str, tokens: int, cost: int, ttl: int) -> bool:
        with self.store.lock:
            if self.store.hash(key):
                return False
            self.store.hashes[key] = {"t": str(tokens), "c": str(cost)}
            self.store.expire(key, ttl)
            return True

    async def counter_reset(self, *, key: str, ttl: int) -> None:
        with self.store.lock:
            fields = self.store.hash(key)
            if not fields:
                self.store.hashes[key] = {"t": "0", "c": "0"}
                self.store.expire(key, ttl)
            else:
                fields.update(t="0", c="0")

    async def counter_read(self, *, keys: list[str], now: float) -> list[CounterState]:
        with self.store.lock:
            states = []
            for key in keys:
                fields = self.store.hash(key)
                if not fields:
                    states.append(CounterState(exists=False))
                    continue
                states.append(CounterState(True, *_tally(fields, now, charge=False)))
            return states

    # --- Per endpoint ----------------------------------------------------------------

    async def upstream_acquire(self, ask: UpstreamAsk) -> UpstreamDecision:
        with self.store.lock:
            try:
                return self._upstream_acquire(ask)
            finally:
                for key in (ask.keys.queue, ask.keys.waiters, ask.keys.inflight):
                    self.store.tidy(key)
                self.store.tidy(ask.keys.log)

    def _upstream_acquire(self, ask: UpstreamAsk) -> UpstreamDecision:
        store, keys, now = self.store, ask.keys, ask.now
        queue, waiters = store.zset(keys.queue), store.zset(keys.waiters)
        inflight, log = store.zset(keys.inflight), store.zset(keys.log)
        for ticket in [t for t, s in waiters.items() if s <= now]:
            queue.pop(ticket, None)
        _drop_upto(waiters, now)
        _drop_upto(inflight, now)

        total = int(store.get(keys.tokens) or -1)  # -1: unknown
        old = [member for member, score in log.items() if score <= now - MINUTE]
        for member in old:
            del log[member]
            if total >= 0:
                total -= _weight(member)
        count = len(log)
        if count == 0:
            total = 0
        elif total < 0:
            total = sum(_weight(member) for member in log)

        queued = ask.ticket in queue
        order = [ticket for ticket, _ in _ordered(queue)]
        rank = order.index(ask.ticket) if queued else len(order)

        outcome, wait = OK, 0.0
        paused = float(store.get(keys.pause) or 0)
        if paused > now:
            outcome, wait = PAUSED, paused - now
        elif rank > 0:
            outcome = WAIT
        else:
            if ask.max_inflight is not None and len(inflight) >= ask.max_inflight:
                outcome = WAIT
            if ask.rpm is not None and count >= ask.rpm:
                outcome = WAIT
                at = now + MINUTE
                if ask.rpm > 0:
                    at = _ordered(log)[count - ask.rpm][1] + MINUTE
                wait = max(wait, at - now)
            if ask.tpm is not None and total > 0 and total + ask.tokens > ask.tpm:
                outcome = WAIT
                at, left = now, total
                for member, score in _ordered(log):
                    if left == 0 or left + ask.tokens <= ask.tpm:
                        break
                    left -= _weight(member)
                    at = score + MINUTE
                wait = max(wait, at - now)

        touched = (keys.queue, keys.waiters, keys.seq, keys.inflight, keys.log)
        if outcome == OK:
            queue.pop(ask.ticket, None)
            waiters.pop(ask.ticket, None)
            inflight[ask.ticket] = ask.lease_until
            log[log_member(ask.ticket, ask.tokens)] = now
            store.strings[keys.tokens] = str(total + ask.tokens)
            for key in (*touched, keys.tokens):
                store.expire(key, ask.ttl)
            return UpstreamDecision(OK)
        store.strings[keys.tokens] = str(total)
        if not queued:
            if rank >= ask.queue_max:
                for key in (*touched, keys.tokens):
                    store.expire(key, ask.ttl)
                return UpstreamDecision(FULL, rank, wait)
            seq = int(store.get(keys.seq) or 0) + 1
            store.strings[keys.seq] = str(seq)
            queue[ask.ticket] = seq
        waiters[ask.ticket] = ask.waiter_until
        for key in (*touched, keys.tokens):
            store.expire(key, ask.ttl)
        return UpstreamDecision(outcome, rank, wait)

    async def upstream_renew(
        self, *, keys: EndpointKeys, ticket: str, until: float
    ) -> bool:
        with self.store.lock:
            inflight = self.store.zset(keys.inflight)
            if ticket not in inflight:
                self.store.tidy(keys.inflight)
                return False
            inflight[ticket] = until
            return True

    async def upstream_release(
        self, *, keys: EndpointKeys, ticket: str, forget: str | None
    ) -> None:
        with self.store.lock:
            for key in (keys.queue, keys.waiters, keys.inflight):
                self.store.zset(key).pop(ticket, None)
                self.store.tidy(key)
            if forget and self.store.zset(keys.log).pop(forget, None) is not None:
                total = int(self.store.get(keys.tokens) or 0)
                self.store.strings[keys.tokens] = str(max(0, total - _weight(forget)))
            self.store.tidy(keys.log)

    async def upstream_pause(
        self, *, keys: EndpointKeys, until: float, now: float
    ) -> float:
        with self.store.lock:
            current = float(self.store.get(keys.pause) or 0)
            if until > current:
                self.store.strings[keys.pause] = repr(until)
                self.store.expire(keys.pause, until - now + 1)
                return until
            return current

    async def upstream_state(self, *, keys: EndpointKeys, now: float) -> UpstreamState:
        with self.store.lock:
            waiters = self.store.zset(keys.waiters)
            inflight = self.store.zset(keys.inflight)
            state = UpstreamState(
                queued=sum(1 for until in waiters.values() if until > now),
                inflight=sum(1 for until in inflight.values() if until > now),
                paused_until=float(self.store.get(keys.pause) or 0),
            )
            for key in (keys.queue, keys.waiters, keys.inflight):
                self.store.tidy(key)
            return state
