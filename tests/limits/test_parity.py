"""The two backends are one design written twice (Lua and Python): the same random
sequence of operations, at the same virtual instants, must get the same answers
from both."""

import random
import uuid
from dataclasses import replace

import pytest
import redis.asyncio as redis

from chat.limits.backends.base import (
    OK,
    SEED,
    BudgetCounter,
    UpstreamAsk,
    UserAsk,
)
from chat.limits.backends.memory import STORE, MemoryBackend
from chat.limits.backends.redis import RedisBackend
from chat.limits.keys import EndpointKeys, UserKeys
from chat.rate_rules import RateRule
from tests.limits.conftest import REDIS_URL, need_redis

RULES = [(), (RateRule(3, 10),), (RateRule(2, 5), RateRule(5, 60)), (RateRule(0, 30),)]


def user_ask(rng, base: str, now: float) -> UserAsk:
    keys = UserKeys(base)
    counters = []
    if rng.random() < 0.7:
        counters.append(
            BudgetCounter(f"{base}:used:day", rng.choice([None, 300, 1000]), None, 600)
        )
    if rng.random() < 0.5:
        counters.append(
            BudgetCounter(f"{base}:used:month", None, rng.choice([None, 5000]), 600)
        )
    return UserAsk(
        rate_key=keys.rate,
        slots_key=keys.slots,
        admission_id=uuid.UUID(int=rng.getrandbits(128)).hex,
        now=now,
        lease_until=now + rng.choice([5, 20]),
        rules=rng.choice(RULES),
        max_concurrent=rng.choice([1, 2, 3]),
        counters=tuple(counters),
        tokens=rng.choice([50, 100, 250]),
        cost=rng.choice([0, 400, 1500]),
    )


def endpoint(base: str) -> EndpointKeys:
    return EndpointKeys(*(f"{base}:{n}" for n in ("q", "w", "s", "i", "l", "p", "t")))


def up_ask(rng, keys: EndpointKeys, ticket: str, now: float) -> UpstreamAsk:
    return UpstreamAsk(
        keys=keys,
        ticket=ticket,
        now=now,
        queue_max=3,
        waiter_until=now + 4,
        lease_until=now + rng.choice([3, 30]),
        max_inflight=2,
        rpm=6,
        tpm=900,
        tokens=rng.choice([100, 300]),
    )


class Twin:
    """Runs each operation on both backends, each under its own prefix."""

    def __init__(self, memory, redis_backend, prefixes) -> None:
        self.backends = (memory, redis_backend)
        self.prefixes = prefixes

    def _swap(self, value, prefix):
        if isinstance(value, str):
            return value.replace("PREFIX", prefix)
        if isinstance(value, list | tuple):
            return type(value)(self._swap(v, prefix) for v in value)
        if isinstance(value, BudgetCounter | EndpointKeys):
            fields = {k: self._swap(v, prefix) for k, v in vars(value).items()}
            return replace(value, **fields)
        if isinstance(value, UserAsk | UpstreamAsk):
            fields = {k: self._swap(v, prefix) for k, v in vars(value).items()}
            return replace(value, **fields)
        return value

    async def call(self, name: str, *args, **kwargs):
        answers = []
        for backend, prefix in zip(self.backends, self.prefixes, strict=True):
            a = [self._swap(v, prefix) for v in args]
            k = {key: self._swap(v, prefix) for key, v in kwargs.items()}
            answers.append(await getattr(backend, name)(*a, **k))
        memory, on_redis = answers
        if isinstance(memory, float):
            assert memory == pytest.approx(on_redis, abs=1e-9), name
        elif hasattr(memory, "retry_after"):
            assert replace(memory, retry_after=0) == replace(on_redis, retry_after=0)
            assert memory.retry_after == pytest.approx(on_redis.retry_after, abs=1e-6)
        else:
            assert memory == on_redis, name
        return memory


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_backends_answer_alike(seed):
    need_redis()
    client = redis.Redis.from_url(REDIS_URL)
    prefixes = [f"test:parity:{uuid.uuid4().hex[:8]}" for _ in range(2)]
    twin = Twin(MemoryBackend(), RedisBackend(client), prefixes)
    rng = random.Random(seed)
    now = 1_700_000_000.0
    live: list[UserAsk] = []
    tickets: list[str] = []
    keys = endpoint("PREFIX:{up}")
    try:
        for _ in range(1000):
            now += rng.choice([0, 0.001, 0.5, 1, 3, 7])
            base = f"PREFIX:{{u:{rng.randint(1, 3)}}}"
            op = rng.random()
            if op < 0.4:
                ask = user_ask(rng, base, now)
                decision = await twin.call("user_admit", ask)
                if decision.outcome == SEED:
                    for index, _ in decision.counters:
                        counter = ask.counters[index]
                        await twin.call(
                            "counter_seed",
                            key=counter.key,
                            tokens=rng.choice([0, 200]),
                            cost=0,
                            ttl=600,
                        )
                elif decision.outcome == OK:
                    live.append(ask)
            elif op < 0.55 and live:
                ask = live.pop(rng.randrange(len(live)))
                await twin.call(
                    "user_settle",
                    slots_key=ask.slots_key,
                    counters=[c.key for c in ask.counters],
                    admission_id=ask.admission_id,
                    tokens=rng.choice([0, 30, 400]),
                    cost=rng.choice([0, 100]),
                )
            elif op < 0.6 and live:
                ask = rng.choice(live)
                await twin.call(
                    "user_renew",
                    slots_key=ask.slots_key,
                    counters=[c.key for c in ask.counters],
                    admission_id=ask.admission_id,
                    until=now + 20,
                    ttl=22,
                )
            elif op < 0.64:
                counters = [f"{base}:used:day", f"{base}:used:month"]
                await twin.call("counter_read", keys=counters, now=now)
            elif op < 0.65:
                await twin.call("counter_reset", key=f"{base}:used:day", ttl=600)
            elif op < 0.85:
                if tickets and rng.random() < 0.6:
                    ticket = rng.choice(tickets)
                else:
                    ticket = f"t{rng.getrandbits(32)}"
                    tickets.append(ticket)
                await twin.call("upstream_acquire", up_ask(rng, keys, ticket, now))
            elif op < 0.95 and tickets:
                ticket = tickets.pop(rng.randrange(len(tickets)))
                forget = f"100:{ticket}" if rng.random() < 0.5 else None
                await twin.call(
                    "upstream_release", keys=keys, ticket=ticket, forget=forget
                )
            elif op < 0.97:
                until = now + rng.choice([1, 5])
                await twin.call("upstream_pause", keys=keys, until=until, now=now)
            else:
                await twin.call("upstream_state", keys=keys, now=now)
    finally:
        for prefix in prefixes:
            STORE.delete_prefix(prefix)
            found = [key async for key in client.scan_iter(match=f"{prefix}:*")]
            if found:
                await client.delete(*found)
        await client.aclose()
