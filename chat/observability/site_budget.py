"""How close the site is to its spending caps: a Prometheus gauge per period and
kind, refreshed when /metrics is scraped, and the admin's warning banner."""

from __future__ import annotations

from django.conf import settings
from prometheus_client import Gauge

from chat.limits.periods import ADJECTIVES
from chat.limits.site import SiteStatus, site_status
from chat.observability.metrics import REGISTRY

SITE_BUDGET_USED = Gauge(
    "chat_site_budget_used",
    "What all users together spent (and hold for replies in flight) this period, "
    "by kind: cost (USD) or tokens. Read from the shared limits store.",
    ["period", "kind"],
    registry=REGISTRY,
)
SITE_BUDGET_LIMIT = Gauge(
    "chat_site_budget_limit",
    "The site-wide cap of the period (CHAT_SITE_BUDGET_*), by kind.",
    ["period", "kind"],
    registry=REGISTRY,
)
SITE_BUDGET_RATIO = Gauge(
    "chat_site_budget_used_ratio",
    "The larger share of the period's site caps spent or held (1 = at the cap).",
    ["period"],
    registry=REGISTRY,
)


async def refresh_site_metrics() -> list[SiteStatus]:
    """Set the gauges from the shared counters (any process reports the same)."""
    statuses = await site_status()
    for status in statuses:
        if status.cost_limit is not None:
            SITE_BUDGET_USED.labels(status.period, "cost").set(float(status.cost_used))
            SITE_BUDGET_LIMIT.labels(status.period, "cost").set(
                float(status.cost_limit)
            )
        if status.tokens_limit is not None:
            SITE_BUDGET_USED.labels(status.period, "tokens").set(status.tokens_used)
            SITE_BUDGET_LIMIT.labels(status.period, "tokens").set(status.tokens_limit)
        SITE_BUDGET_RATIO.labels(status.period).set(status.ratio)
    return statuses


def banner_lines(statuses: list[SiteStatus]) -> list[str]:
    """A sentence per period at or above CHAT_SITE_BUDGET_WARN_RATIO of its cap."""
    lines = []
    for status in statuses:
        if status.ratio < settings.CHAT_SITE_BUDGET_WARN_RATIO:
            continue
        parts = []
        if status.cost_limit is not None:
            parts.append(f"${status.cost_used:.2f} of ${status.cost_limit:.2f}")
        if status.tokens_limit is not None:
            parts.append(f"{status.tokens_used:,} of {status.tokens_limit:,} tokens")
        state = "has reached" if status.ratio >= 1 else "is near"
        lines.append(
            f"The site {state} its {ADJECTIVES[status.period]} spending cap: "
            f"{' and '.join(parts)} ({status.ratio:.0%}). New replies are refused "
            "for everyone at the cap."
        )
    return lines
