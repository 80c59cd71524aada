"""Readiness checks: can this process serve a turn right now? Each dependency is
checked concurrently under a short timeout and reported with its state and latency.

Required: the database, the channel layer, and Redis when REDIS_URL is set. The model
endpoint is reported, and required only with CHAT_READY_REQUIRES_MODEL: a hosted
provider's outage should not take every page (history, admin) out of the load
balancer, but a private model server may well be a hard dependency.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection

from chat import shutdown
from chat.llm import chat_models

OK, FAIL, SKIPPED = "ok", "fail", "skipped"


class CheckFailed(Exception):
    """A dependency answered, but not as it should."""


@dataclass
class Check:
    name: str
    required: bool
    state: str = SKIPPED
    latency_ms: float | None = None
    detail: str = ""

    def as_json(self) -> dict:
        out: dict = {"state": self.state, "required": self.required}
        if self.latency_ms is not None:
            out["latency_ms"] = round(self.latency_ms, 1)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)
    # Shutting down (SIGTERM): no new traffic, whatever the dependencies say.
    draining: bool = False

    @property
    def ready(self) -> bool:
        if self.draining:
            return False
        return all(c.state != FAIL for c in self.checks if c.required)

    @property
    def status(self) -> str:
        if self.draining:
            return "draining"
        if not self.ready:
            return "fail"
        return "degraded" if any(c.state == FAIL for c in self.checks) else "ok"

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "checks": {c.name: c.as_json() for c in self.checks},
        }


def _timeout() -> float:
    return float(settings.CHAT_READY_TIMEOUT)


async def _run(check: Check, probe: Callable[[], Awaitable[str]]) -> Check:
    """Time one probe; its failure is the check's state, never an exception."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(_timeout()):
            check.detail = await probe()
        check.state = OK
    except TimeoutError:
        check.state, check.detail = FAIL, f"no answer within {_timeout():g}s"
    except CheckFailed as exc:
        check.state, check.detail = FAIL, str(exc)
    except Exception as exc:
        # The class name only: messages can carry hosts or credentials.
        check.state, check.detail = FAIL, type(exc).__name__
    check.latency_ms = (time.perf_counter() - started) * 1000
    return check


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database() -> str:
    # Django has no async cursor; this one query runs in the request's DB thread.
    await sync_to_async(_select_one)()
    return ""


async def check_redis() -> str:
    from chat.redis_client import get_redis

    if not await get_redis().ping():
        raise CheckFailed("PING was not answered with PONG")
    return ""


async def check_channel_layer() -> str:
    """The layer's own Redis connections answer PING; nothing is sent or consumed.

    A message sent to a fresh channel and received back is no test under load: with
    Redis channels the layer's receive loop, once the process's sockets hold it, only
    reads the process's own queue, so the probe would wait in vain exactly while the
    process is busiest."""
    layer = get_channel_layer()
    if layer is None:
        raise CheckFailed("no channel layer is configured")
    connection_for = getattr(layer, "connection", None)
    if callable(connection_for):  # channels_redis: one pool per host and loop
        for index in range(layer.ring_size):
            if not await connection_for(index).ping():
                raise CheckFailed("PING was not answered with PONG")
    elif isinstance(layer, InMemoryChannelLayer):
        pass  # in the process itself: up while the process is
    else:
        await _round_trip(layer)
    return type(layer).__name__


async def _round_trip(layer) -> None:
    """For a layer of another kind: a message to a fresh channel comes back."""
    channel = await layer.new_channel("readyz.")
    nonce = uuid.uuid4().hex
    await layer.send(channel, {"type": "readyz.ping", "nonce": nonce})
    message = await layer.receive(channel)
    if message.get("nonce") != nonce:
        raise CheckFailed("the channel layer returned another message")


async def check_model() -> str:
    """GET {base}/models: the endpoint is up and accepts our key."""
    if chat_models.is_demo():
        return "demo model"
    base = chat_models.endpoint().rstrip("/")
    headers = {}
    if settings.OPENAI_API_KEY:
        headers["Authorization"] = f"Bearer {settings.OPENAI_API_KEY}"
    async with httpx.AsyncClient(timeout=_timeout()) as client:
        response = await client.get(f"{base}/models", headers=headers)
    if response.status_code >= 400:
        raise CheckFailed(f"HTTP {response.status_code}")
    return ""


async def readiness() -> Readiness:
    """Run every check at once and collect their states."""
    redis_url = bool(settings.REDIS_URL)
    requires_model = bool(settings.CHAT_READY_REQUIRES_MODEL)
    plan = [
        (Check("database", required=True), check_database),
        (Check("redis", required=redis_url), check_redis if redis_url else None),
        (Check("channel_layer", required=True), check_channel_layer),
        (Check("model", required=requires_model), check_model),
    ]
    checks = await asyncio.gather(
        *(_run(check, probe) for check, probe in plan if probe is not None)
    )
    done = {check.name: check for check in checks}
    return Readiness(
        [done.get(check.name, check) for check, _ in plan],
        draining=shutdown.draining(),
    )
