"""The Redis backend: each operation is one Lua script (scripts.py), so every check
and its commit happen atomically on the server, shared by all processes."""

from __future__ import annotations

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.limits.backends import scripts
from chat.limits.backends.base import (
    BackendUnavailable,
    CounterState,
    LimitsBackend,
    UpstreamAsk,
    UpstreamDecision,
    UpstreamState,
    UserAsk,
    UserDecision,
)
from chat.limits.keys import EndpointKeys

# Failures that mean "Redis cannot answer now" rather than a bug in a script.
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _limit(value: int | None) -> int:
    return -1 if value is None else value


def _counters(items: list) -> tuple[tuple[int, str], ...]:
    pairs = (_text(item).split(":", 1) for item in items)
    return tuple((int(index), kind) for index, kind in pairs)


class RedisBackend(LimitsBackend):
    name = "redis"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._scripts = {
            name: client.register_script(getattr(scripts, name))
            for name in (
                "USER_ADMIT",
                "USER_RENEW",
                "USER_SETTLE",
                "COUNTER_SEED",
                "COUNTER_RESET",
                "COUNTER_READ",
                "UPSTREAM_ACQUIRE",
                "UPSTREAM_RENEW",
                "UPSTREAM_RELEASE",
                "UPSTREAM_PAUSE",
                "UPSTREAM_STATE",
            )
        }

    async def _run(self, name: str, keys: list[str], args: list) -> object:
        try:
            return await self._scripts[name](keys=keys, args=args)
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def user_admit(self, ask: UserAsk) -> UserDecision:
        args: list = [
            repr(ask.now),
            ask.admission_id,
            repr(ask.lease_until),
            ask.max_concurrent,
            ask.tokens,
            ask.cost,
            ask.slot_ttl,
            len(ask.rules),
        ]
        for rule in ask.rules:
            args += [rule.limit, repr(rule.window)]
        for counter in ask.counters:
            args += [_limit(counter.tokens_limit), _limit(counter.cost_limit)]
        keys = [ask.rate_key, ask.slots_key, *(c.key for c in ask.counters)]
        reply = await self._run("USER_ADMIT", keys, args)
        return UserDecision(
            _text(reply[0]), float(_text(reply[1])), _counters(reply[2:])
        )

    async def user_renew(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        until: float,
        ttl: int,
    ) -> bool:
        args = [admission_id, repr(until), ttl]
        return bool(await self._run("USER_RENEW", [slots_key, *counters], args))

    async def user_settle(
        self,
        *,
        slots_key: str,
        counters: list[str],
        admission_id: str,
        tokens: int,
        cost: int,
    ) -> int:
        args = [admission_id, tokens, cost]
        return int(await self._run("USER_SETTLE", [slots_key, *counters], args))

    async def counter_seed(self, *, key: str, tokens: int, cost: int, ttl: int) -> bool:
        return bool(await self._run("COUNTER_SEED", [key], [tokens, cost, ttl]))

    async def counter_reset(self, *, key: str, ttl: int) -> None:
        await self._run("COUNTER_RESET", [key], [ttl])

    async def counter_read(self, *, keys: list[str], now: float) -> list[CounterState]:
        if not keys:
            return []
        flat = [_text(v) for v in await self._run("COUNTER_READ", keys, [repr(now)])]
        states = []
        for i in range(0, len(flat), 5):
            exists, *amounts = flat[i : i + 5]
            states.append(CounterState(exists == "1", *(int(a) for a in amounts)))
        return states

    async def upstream_acquire(self, ask: UpstreamAsk) -> UpstreamDecision:
        k = ask.keys
        keys = [k.queue, k.waiters, k.seq, k.inflight, k.log, k.pause, k.tokens]
        args = [
            repr(ask.now),
            ask.ticket,
            ask.queue_max,
            repr(ask.waiter_until),
            repr(ask.lease_until),
            _limit(ask.max_inflight),
            _limit(ask.rpm),
            _limit(ask.tpm),
            ask.tokens,
            ask.ttl,
        ]
        outcome, position, wait = await self._run("UPSTREAM_ACQUIRE", keys, args)
        return UpstreamDecision(_text(outcome), int(position), float(_text(wait)))

    async def upstream_renew(
        self, *, keys: EndpointKeys, ticket: str, until: float
    ) -> bool:
        args = [ticket, repr(until)]
        return bool(await self._run("UPSTREAM_RENEW", [keys.inflight], args))

    async def upstream_release(
        self, *, keys: EndpointKeys, ticket: str, forget: str | None
    ) -> None:
        names = [keys.queue, keys.waiters, keys.inflight, keys.log, keys.tokens]
        await self._run("UPSTREAM_RELEASE", names, [ticket, forget or ""])

    async def upstream_pause(
        self, *, keys: EndpointKeys, until: float, now: float
    ) -> float:
        ttl_ms = int((until - now + 1) * 1000)
        reply = await self._run("UPSTREAM_PAUSE", [keys.pause], [repr(until), ttl_ms])
        return float(_text(reply))

    async def upstream_state(self, *, keys: EndpointKeys, now: float) -> UpstreamState:
        names = [keys.waiters, keys.inflight, keys.pause]
        queued, inflight, paused = await self._run("UPSTREAM_STATE", names, [repr(now)])
        return UpstreamState(int(queued), int(inflight), float(_text(paused)))
