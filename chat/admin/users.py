"""Users with their plan, limits and usage this period; block, unblock, reset a
budget, clear their cached replies; their quota inline."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from chat import blocking, usage
from chat.admin.base import NavListMixin, User, admin_url
from chat.admin.cache_actions import LlmCacheAdminMixin, clear_cache_for_users
from chat.admin.quotas import describe
from chat.limits import LimitsUnavailable, budget_reset
from chat.limits.policies import forget_quota, resolve
from chat.models import Conversation, Quota
from chat.observability.charts import money


def _log_users(request, ids: list, message: str) -> None:
    """One admin log entry per user the action touched."""
    if ids:
        LogEntry.objects.log_actions(
            request.user.pk, User.objects.filter(pk__in=ids), CHANGE, message
        )


@admin.action(description="Block selected users (no login, no new messages)")
def block_users(modeladmin, request, queryset):
    ids = blocking.users_block(users=queryset, actor=request.user)
    _log_users(request, ids, "Blocked.")
    modeladmin.message_user(request, f"Blocked {len(ids)} user(s).", messages.SUCCESS)
    if queryset.filter(pk=request.user.pk).exists():
        modeladmin.message_user(request, "You cannot block yourself.", messages.WARNING)


@admin.action(description="Unblock selected users")
def unblock_users(modeladmin, request, queryset):
    ids = blocking.users_unblock(users=queryset)
    _log_users(request, ids, "Unblocked.")
    modeladmin.message_user(request, f"Unblocked {len(ids)} user(s).", messages.SUCCESS)


async def _reset_budgets(ids: list, done: list) -> None:
    for user_id in ids:
        await budget_reset(user_id=user_id)
        done.append(user_id)


@admin.action(description="Reset the usage budget of selected users")
def reset_budgets(modeladmin, request, queryset):
    """Forgive this period's spending (chat.limits.budget_reset); the ledger stays."""
    done: list = []
    try:
        async_to_sync(_reset_budgets)(list(queryset.values_list("pk", flat=True)), done)
    except LimitsUnavailable:
        modeladmin.message_user(
            request,
            "The limits store is unavailable: budgets were not reset. Try again.",
            messages.ERROR,
        )
    _log_users(request, done, "Reset the usage budget.")
    if done:
        modeladmin.message_user(
            request, f"Reset the budget of {len(done)} user(s).", messages.SUCCESS
        )


class QuotaInline(admin.StackedInline):
    model = Quota
    extra = 0
    max_num = 1
    fields = (
        "plan",
        "unlimited",
        "rate_limits",
        "max_concurrent_replies",
        ("tokens_per_day", "tokens_per_month"),
        ("cost_per_day", "cost_per_month"),
        "note",
    )
    verbose_name = "quota"
    verbose_name_plural = "quota (blank fields follow the site defaults)"


class ChatUserAdmin(NavListMixin, LlmCacheAdminMixin, UserAdmin):
    """Users with their plan, limits, usage this period and state in the list."""

    list_display = (
        "username",
        "email",
        "plan",
        "limits",
        "tokens_today",
        "tokens_month",
        "cost_month",
        "state",
        "is_staff",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    inlines = [QuotaInline]
    actions = [block_users, unblock_users, reset_budgets, clear_cache_for_users]
    nav = "users"
    readonly_fields = ("usage_now", "plan", "limits", "recent_conversations")
    fieldsets = (
        UserAdmin.fieldsets[0],
        (
            "Usage",
            {"fields": ("usage_now", ("plan", "limits"), "recent_conversations")},
        ),
        *UserAdmin.fieldsets[1:],
    )

    def get_queryset(self, request):
        users = usage.with_period_usage(super().get_queryset(request))
        return users.select_related("chat_quota")

    def get_list_filter(self, request):
        return (*self.list_filter, "chat_quota__plan")

    @staticmethod
    def _quota(user):
        try:
            return user.chat_quota
        except ObjectDoesNotExist:
            return None

    @admin.display(description="plan", ordering="chat_quota__plan")
    def plan(self, user) -> str:
        quota = self._quota(user)
        return quota.plan if quota is not None and quota.plan else "default"

    @admin.display(description="limits")
    def limits(self, user) -> str:
        return describe(resolve(self._quota(user)))

    @admin.display(description="tokens today", ordering="tokens_today")
    def tokens_today(self, user) -> str:
        return f"{user.tokens_today:,}"

    @admin.display(description="tokens this month", ordering="tokens_month")
    def tokens_month(self, user) -> str:
        return f"{user.tokens_month:,}"

    @admin.display(description="cost this month", ordering="cost_month")
    def cost_month(self, user) -> str:
        return money(user.cost_month)

    @admin.display(description="state", ordering="is_active")
    def state(self, user) -> str:
        name = "active" if user.is_active else "blocked"
        return format_html(
            '<span class="chat-state chat-state-{}">{}</span>', name, name
        )

    @admin.display(description="usage this period")
    def usage_now(self, user) -> str:
        if user.pk is None:
            return "—"
        return render_to_string(
            "admin/chat/user/usage_now.html",
            {
                "user_id": user.pk,
                "tokens_today": f"{user.tokens_today:,}",
                "tokens_month": f"{user.tokens_month:,}",
                "cost_month": money(user.cost_month),
                "entries": [
                    {**row, "cost": money(row["cost"])}
                    for row in usage.usage_by_entry(
                        since=usage.period_starts()["month"], user=user
                    )
                ],
                "calls_url": reverse("admin:chat_modelcall_changelist"),
            },
        )

    @admin.display(description="recent conversations")
    def recent_conversations(self, user) -> str:
        if user.pk is None:
            return "—"
        rows = Conversation.objects.filter(user=user).order_by("-updated")[:10]
        if not rows:
            return "None yet."
        return render_to_string(
            "admin/chat/user/recent_conversations.html",
            {
                "rows": [
                    (
                        conversation,
                        admin_url(Conversation, conversation.pk),
                        reverse(
                            "admin:chat_conversation_investigate",
                            args=[conversation.pk],
                        ),
                    )
                    for conversation in rows
                ]
            },
        )

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        forget_quota(form.instance.pk)  # a quota edited inline applies at once


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ChatUserAdmin)
