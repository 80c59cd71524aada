"""Per-user quotas: where a user's limits differ from the site defaults."""

from __future__ import annotations

from django.contrib import admin

from chat.limits.policies import Policy, forget_quota, resolve
from chat.models import Quota


def describe(policy: Policy) -> str:
    """A policy in words, e.g. "10 requests per 60s; 1 reply at a time; ..."."""
    parts = [
        ", ".join(f"{r.limit} requests per {r.window:g}s" for r in policy.rate_rules)
        or "no rate limit",
        f"{policy.max_concurrent} repl{'y' if policy.max_concurrent == 1 else 'ies'} "
        "at a time",
    ]
    for period in ("day", "month"):
        tokens, cost = policy.budget(period)
        if tokens is not None:
            parts.append(f"{tokens:,} tokens per {period}")
        if cost is not None:
            parts.append(f"{cost} per {period}")
    if not any(policy.budget(period) != (None, None) for period in ("day", "month")):
        parts.append("no budget")
    return "; ".join(parts)


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "plan",
        "unlimited",
        "rate_limits",
        "max_concurrent_replies",
        "tokens_per_day",
        "tokens_per_month",
        "cost_per_day",
        "cost_per_month",
        "updated",
    )
    list_filter = ("plan", "unlimited")
    search_fields = ("user__username", "user__email", "plan", "note")
    raw_id_fields = ("user",)
    readonly_fields = ("limits_in_effect", "updated")
    fieldsets = (
        (None, {"fields": ("user", "plan", "note")}),
        (
            "Rate and concurrency",
            {"fields": ("unlimited", "rate_limits", "max_concurrent_replies")},
        ),
        (
            "Budgets",
            {
                "fields": (
                    "tokens_per_day",
                    "tokens_per_month",
                    "cost_per_day",
                    "cost_per_month",
                ),
                "description": "Blank fields follow the site defaults. Changes "
                "reach every server process within CHAT_QUOTA_CACHE_SECONDS.",
            },
        ),
        ("In effect", {"fields": ("limits_in_effect", "updated")}),
    )

    @admin.display(description="limits in effect")
    def limits_in_effect(self, quota: Quota) -> str:
        if quota.pk is None:
            return "Shown once saved."
        return describe(resolve(quota))

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        forget_quota(obj.user_id)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        forget_quota(obj.user_id)
