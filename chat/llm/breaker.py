"""A circuit breaker per model endpoint, shared by every process through Redis when
it is configured: after repeated failures calls fail fast for a cool-down, then one
probe is let through; its first chunk closes the circuit, its failure re-opens it.
A provider's 429 with Retry-After pauses the endpoint the same way, for everyone.

If Redis fails, the breaker steps aside (logged): calls go through and the
provider's own answer decides, rather than a turn failing for want of bookkeeping."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from chat.redis_client import get_redis, redis_enabled, redis_key
from chat.stores import StoreRegistry

log = logging.getLogger("chat.breaker")


def _key(endpoint: str) -> str:
    return redis_key("breaker", endpoint)


def _probe_seconds() -> float:
    """How long a half-open probe holds the circuit: until its first chunk (success
    comes then), so at most the first-token deadline."""
    return settings.LLM_FIRST_TOKEN_TIMEOUT or settings.LLM_TIMEOUT


def _step_aside(default):
    """Run a Redis breaker method; on a Redis error, log and return `default`."""

    def wrap(method):
        @functools.wraps(method)
        async def run(self, endpoint: str, *args):
            try:
                return await method(self, endpoint, *args)
            except Exception:
                log.warning("circuit state for %s unavailable", endpoint, exc_info=True)
                return default

        return run

    return wrap


class Breaker(Protocol):
    async def allow(self, endpoint: str) -> bool:
        """Whether a call may go out now (closed, or the one probe of a cool-down)."""

    async def success(self, endpoint: str) -> None:
        """A call succeeded: the circuit closes."""

    async def failure(self, endpoint: str) -> None:
        """A call failed: enough in a row open the circuit for a cool-down."""

    async def pause(self, endpoint: str, seconds: float) -> None:
        """Hold every call for `seconds` (a provider's 429 with Retry-After)."""


@dataclass
class _State:
    failures: int = 0
    open_until: float = 0.0
    tripped: bool = False
    probe_until: float = 0.0


class MemoryBreaker:
    """The in-process breaker (embedded default)."""

    def __init__(self) -> None:
        self._states: dict[str, _State] = {}

    async def allow(self, endpoint: str) -> bool:
        state = self._states.setdefault(endpoint, _State())
        now = time.monotonic()
        if now < state.open_until:
            return False
        if state.tripped:
            if now < state.probe_until:
                return False  # a probe is already out
            state.probe_until = now + _probe_seconds()
        return True

    async def success(self, endpoint: str) -> None:
        self._states.pop(endpoint, None)

    async def failure(self, endpoint: str) -> None:
        state = self._states.setdefault(endpoint, _State())
        state.failures += 1
        if state.tripped or state.failures >= settings.CHAT_BREAKER_FAILURES:
            self._trip(state, settings.CHAT_BREAKER_COOLDOWN)

    async def pause(self, endpoint: str, seconds: float) -> None:
        state = self._states.setdefault(endpoint, _State())
        state.open_until = max(state.open_until, time.monotonic() + seconds)

    @staticmethod
    def _trip(state: _State, seconds: float) -> None:
        state.open_until = time.monotonic() + seconds
        state.tripped, state.failures, state.probe_until = True, 0, 0.0


class RedisBreaker:
    """The same rules with the state in Redis, so every process sees one circuit."""

    @_step_aside(True)
    async def allow(self, endpoint: str) -> bool:
        client = get_redis()
        key = _key(endpoint)
        is_open, tripped = await client.mget(key + ":open", key + ":tripped")
        if is_open:
            return False
        if tripped:
            probe_ms = int(_probe_seconds() * 1000)
            return bool(await client.set(key + ":probe", 1, nx=True, px=probe_ms))
        return True

    @_step_aside(None)
    async def success(self, endpoint: str) -> None:
        key = _key(endpoint)
        await get_redis().delete(key + ":failures", key + ":tripped", key + ":probe")

    @_step_aside(None)
    async def failure(self, endpoint: str) -> None:
        client = get_redis()
        key = _key(endpoint)
        cooldown_ms = int(settings.CHAT_BREAKER_COOLDOWN * 1000)
        if await client.exists(key + ":tripped"):
            await self._trip(key, cooldown_ms)
            return
        async with client.pipeline(transaction=True) as pipe:
            pipe.incr(key + ":failures")
            pipe.pexpire(key + ":failures", cooldown_ms * 4)
            failures, _ = await pipe.execute()
        if failures >= settings.CHAT_BREAKER_FAILURES:
            await self._trip(key, cooldown_ms)

    @_step_aside(None)
    async def pause(self, endpoint: str, seconds: float) -> None:
        await get_redis().set(
            _key(endpoint) + ":open", 1, px=max(int(seconds * 1000), 1)
        )

    @staticmethod
    async def _trip(key: str, cooldown_ms: int) -> None:
        async with get_redis().pipeline(transaction=True) as pipe:
            pipe.set(key + ":open", 1, px=cooldown_ms)
            pipe.set(key + ":tripped", 1, px=cooldown_ms * 20)
            pipe.delete(key + ":failures", key + ":probe")
            await pipe.execute()


# Both are process-wide: the memory breaker's state is the process's, the Redis one
# keeps none of its own (it takes the running loop's client per call).
_breakers: StoreRegistry[Breaker] = StoreRegistry(per_loop=False)


def get_breaker() -> Breaker:
    if redis_enabled():
        return _breakers.get("redis", RedisBreaker)
    return _breakers.get("memory", MemoryBreaker)
