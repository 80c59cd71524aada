"""Prometheus metrics of this process and the functions the turn calls to feed them.

Each server process keeps its own registry and answers /metrics for itself; scrape
every process (Prometheus sums across instances). Label values are bounded: model
names come from configuration, codes and kinds from the error hierarchy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from chat.cache.stats import cache_counters
from chat.redis_client import connection_counts

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

TIME_TO_FIRST_TOKEN = Histogram(
    "chat_time_to_first_token_seconds",
    "Seconds from the start of a reply to its first token.",
    ["model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30),
    registry=REGISTRY,
)
REPLY_DURATION = Histogram(
    "chat_reply_duration_seconds",
    "Seconds from the start of a reply to its end, however it ended.",
    ["model", "status"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300),
    registry=REGISTRY,
)
REPLIES = Counter(
    "chat_replies",
    "Replies finished, by model and final status.",
    ["model", "status"],
    registry=REGISTRY,
)
TOKENS = Counter(
    "chat_tokens",
    "Tokens the provider billed, by model and kind: input (cached_input is the "
    "part of it read from the provider's prompt cache) and output. Replies served "
    "from the response cache are not counted.",
    ["model", "kind"],
    registry=REGISTRY,
)
COST = Counter(
    "chat_cost_usd",
    "Cost of replies at the price table's rates, by model.",
    ["model"],
    registry=REGISTRY,
)
ACTIVE_STREAMS = Gauge(
    "chat_active_streams",
    "Replies being generated in this process right now.",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "chat_upstream_queue_depth",
    "Turns of this process waiting in the upstream queue for a provider slot.",
    registry=REGISTRY,
)
REFUSALS = Counter(
    "chat_refusals",
    "Requests refused with an error frame, by error code.",
    ["code"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "chat_errors",
    "Failures recorded for operators (ErrorRecord), by kind and code.",
    ["kind", "code"],
    registry=REGISTRY,
)


class ResponseCacheCollector(Collector):
    """Hits and misses of the response cache, read from its own counters at scrape
    time, so the cache needs no second bookkeeping."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = cache_counters()
        yield CounterMetricFamily(
            "chat_cache_hits",
            "Replies served from the response cache.",
            value=counts.get("hits", 0),
        )
        yield CounterMetricFamily(
            "chat_cache_misses",
            "Response cache lookups that found nothing.",
            value=counts.get("misses", 0),
        )


REGISTRY.register(ResponseCacheCollector())


class RedisConnectionsCollector(Collector):
    """Redis connections this process's pools hold open, read at scrape time: the
    budget of docs/deploy.md, watched."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "chat_redis_connections",
            "Open Redis connections of this process's pools (main, stream reader).",
            labels=["pool"],
        )
        for pool, count in connection_counts().items():
            family.add_metric([pool], count)
        yield family


REGISTRY.register(RedisConnectionsCollector())


def observe_reply(outcome) -> None:
    """Count one finished reply (a chat.conversations.ReplyOutcome, or anything with
    its fields): latency, status, billed tokens and cost."""
    model = outcome.model or "unknown"
    if outcome.ttft_ms is not None:
        TIME_TO_FIRST_TOKEN.labels(model).observe(outcome.ttft_ms / 1000)
    if outcome.duration_ms is not None:
        REPLY_DURATION.labels(model, outcome.status).observe(outcome.duration_ms / 1000)
    REPLIES.labels(model, outcome.status).inc()
    if not getattr(outcome, "cache_hit", False):
        TOKENS.labels(model, "input").inc(outcome.input_tokens)
        TOKENS.labels(model, "cached_input").inc(outcome.cached_input_tokens)
        TOKENS.labels(model, "output").inc(outcome.output_tokens)
    cost = Decimal(outcome.cost or 0)
    if cost > 0:
        COST.labels(model).inc(float(cost))


@contextmanager
def active_stream() -> Iterator[None]:
    """Count a reply as in flight for the duration of the block."""
    ACTIVE_STREAMS.inc()
    try:
        yield
    finally:
        ACTIVE_STREAMS.dec()


@contextmanager
def queued_upstream() -> Iterator[None]:
    """Count a turn as waiting for a provider slot for the duration of the block."""
    QUEUE_DEPTH.inc()
    try:
        yield
    finally:
        QUEUE_DEPTH.dec()


def observe_refusal(code: str) -> None:
    """Count a request answered with an error frame of this code."""
    REFUSALS.labels(code or "internal").inc()


def observe_error(*, kind: str, code: str) -> None:
    """Count a failure recorded for operators."""
    ERRORS.labels(kind or "unknown", code or "internal").inc()


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
