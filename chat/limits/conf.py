"""The limits' settings, each read when used (so override_settings works), with the
defaults that apply when settings.py does not name them. docs/limits.md explains
each one."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Master switch: off, every admission is granted without any bookkeeping.
    "CHAT_LIMITS_ENABLED": True,
    # Namespace of every Redis key (and of the in-process store's keys).
    "CHAT_LIMITS_KEY_PREFIX": "chat:limits",
    # When Redis cannot be reached: "closed" refuses new turns with `busy`;
    # "local" falls back to this process's own limiter (limits then hold per process).
    "CHAT_LIMITS_ON_REDIS_ERROR": "closed",
    # Seconds an in-flight slot and its budget reservation live without a heartbeat;
    # a turn renews them every third of this, so only a dead process lets them lapse.
    "CHAT_LIMITS_LEASE_SECONDS": 60.0,
    # Per-user request rate: rules "requests/window" (window in s, m, h or d);
    # every rule must allow a request. An empty list turns the rate limit off.
    "CHAT_RATE_LIMITS": ["10/1m"],
    # Replies one user may have in flight (queued or streaming) at once.
    "CHAT_MAX_CONCURRENT_REPLIES": 1,
    # Budgets per user; None means no budget of that kind. Tokens are input plus
    # output; cost is in the price table's currency (chat/llm/registry.py).
    "CHAT_BUDGET_TOKENS_PER_DAY": None,
    "CHAT_BUDGET_TOKENS_PER_MONTH": None,
    "CHAT_BUDGET_COST_PER_DAY": None,
    "CHAT_BUDGET_COST_PER_MONTH": None,
    # Seconds a user's Quota row is cached per process (admin edits apply after).
    "CHAT_QUOTA_CACHE_SECONDS": 30.0,
    # Towards each model endpoint, across all processes: requests in flight,
    # requests per minute and tokens per minute (input estimate plus reply cap).
    # None means no limit.
    "CHAT_UPSTREAM_MAX_CONCURRENT": None,
    "CHAT_UPSTREAM_RPM": None,
    "CHAT_UPSTREAM_TPM": None,
    # Turns that may wait for an upstream slot at once; more are refused with `busy`.
    "CHAT_UPSTREAM_QUEUE_MAX": 100,
    # Longest wait in that queue before a turn fails with `busy`.
    "CHAT_UPSTREAM_MAX_WAIT_SECONDS": 30.0,
    # How often a waiting turn looks at the queue (waiters in the same process are
    # also woken at once when a slot frees).
    "CHAT_UPSTREAM_POLL_SECONDS": 0.1,
    # Pause after a provider 429 that carries no Retry-After, and the longest pause
    # a Retry-After may impose.
    "CHAT_UPSTREAM_DEFAULT_PAUSE_SECONDS": 2.0,
    "CHAT_UPSTREAM_MAX_PAUSE_SECONDS": 300.0,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
