"""Admin: what the service costs, who uses it, how fast it is and what fails.

Records (messages, model calls, errors) are read-only: editing them would falsify
history. Their lists filter by date with list_filter rather than date_hierarchy,
whose SELECT DISTINCT over every row takes seconds on SQLite at 100,000 rows.

Message text stays off the ordinary pages; staff read a conversation on its
"investigate" page, which asks why and records the access in the admin log.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import never_cache

from chat import usage
from chat.cache.admin_actions import (
    CACHE_ACTIONS,
    LlmCacheAdminMixin,
    clear_cache_for_models,
    clear_cache_for_users,
    clear_whole_cache,
)
from chat.catalogue import admin as catalogue_admin  # noqa: F401  (registers)
from chat.limits import LimitsUnavailable, budget_reset
from chat.limits.policies import forget_quota, resolve
from chat.models import Conversation, ErrorRecord, Message, ModelCall
from chat.observability import dashboard
from chat.observability.charts import money
from chat.observability.tracing import trace_url

User = get_user_model()
STYLESHEET = "admin/chat/observability.css"
# Most recent calls and errors listed beside a conversation being investigated.
INVESTIGATE_ROWS = 20


class StyledMedia:
    css = {"all": [STYLESHEET]}


def _admin_url(model, pk) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


def _user_change_url() -> str:
    """The URL name of the user change page, whatever the user model."""
    return f"admin:{User._meta.app_label}_{User._meta.model_name}_change"


def user_link(user_id, name: str) -> str:
    if user_id is None:
        return "—"
    return format_html('<a href="{}">{}</a>', _admin_url(User, user_id), name)


def conversation_link(conversation_id) -> str:
    if conversation_id is None:
        return "—"
    return format_html(
        '<a href="{}" title="{}">{}…</a>',
        _admin_url(Conversation, conversation_id),
        conversation_id,
        str(conversation_id)[:8],
    )


def admin_nav(active: str) -> list[tuple[str, str, bool]]:
    """The links between the observability pages: (label, url, current)."""
    user_meta = User._meta
    pages = [
        ("dashboard", "Usage dashboard", "admin:chat_modelcall_dashboard"),
        ("calls", "Model calls", "admin:chat_modelcall_changelist"),
        ("errors", "Errors", "admin:chat_errorrecord_changelist"),
        (
            "users",
            "Users",
            f"admin:{user_meta.app_label}_{user_meta.model_name}_changelist",
        ),
    ]
    return [(label, reverse(name), key == active) for key, label, name in pages]


# The limits module's Quota, once chat/models.py imports it (so it has a table);
# read once here, because importing chat.limits.admin_quota later would register
# the model without one.
QUOTA = apps.all_models["chat"].get("quota")


class NavListMixin:
    """A list among the observability pages: the links between them under its
    title, the dashboard among its object tools, the stylesheet."""

    nav = ""
    change_list_template = "admin/chat/change_list.html"
    Media = StyledMedia

    def changelist_view(self, request, extra_context=None):
        extra_context = {"nav": admin_nav(self.nav), **(extra_context or {})}
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Conversations and messages ----------------------------------------------------


class InvestigateForm(forms.Form):
    reason = forms.CharField(
        min_length=8,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why you need to read this conversation, e.g. a support ticket "
        "number. It is recorded with your name in the admin log.",
    )


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("title", "user", "created", "updated")
    list_filter = ("created",)
    search_fields = ("title", "user__username", "id")
    list_select_related = ("user",)
    fields = ("id", "user", "title", "created", "updated", "investigate", "replies")
    readonly_fields = ("investigate", "replies")
    date_hierarchy = "created"
    Media = StyledMedia

    @admin.display(description="messages")
    def investigate(self, obj: Conversation) -> str:
        url = reverse("admin:chat_conversation_investigate", args=[obj.pk])
        return format_html(
            '<a class="button" href="{}">Read the messages (audited)</a>', url
        )

    @admin.display(description="exchanges")
    def replies(self, obj: Conversation) -> str:
        """Each message's metadata, in one query; the text stays out (see
        investigate), which is why this is not an inline: an inline shows each
        message by its __str__, its text."""
        rows = obj.messages.order_by("created").values_list(
            "pk", "created", "role", "status", "model", "output_tokens", "error_code"
        )[:500]
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
            '<td class="num">{}</td><td class="chat-code">{}</td></tr>',
            (
                (
                    _admin_url(Message, pk),
                    timezone.localtime(created).strftime("%Y-%m-%d %H:%M:%S"),
                    role,
                    status,
                    model or "—",
                    tokens,
                    code,
                )
                for pk, created, role, status, model, tokens, code in rows
            ),
        )
        if not body:
            return "No messages."
        return format_html(
            '<table class="chat-table"><thead><tr><th>When</th><th>Role</th>'
            '<th>Status</th><th>Model</th><th class="num">Output tokens</th>'
            "<th>Error</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    def get_urls(self):
        view = self.admin_site.admin_view(never_cache(self.investigate_view))
        return [
            path(
                "<path:object_id>/investigate/",
                view,
                name="chat_conversation_investigate",
            ),
            *super().get_urls(),
        ]

    def investigate_view(self, request, object_id):
        """Ask for a reason, log it, then show the conversation's messages."""
        conversation = self.get_object(request, object_id)
        if conversation is None:
            raise Http404("No such conversation.")
        if not (
            self.has_view_permission(request, conversation)
            and request.user.has_perm("chat.view_message")
        ):
            raise PermissionDenied
        form = InvestigateForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Investigate: {conversation}",
            "opts": self.opts,
            "original": conversation,
            "form": form,
            "messages_read": None,
            "user_change_url": _user_change_url(),
        }
        if request.method == "POST" and form.is_valid():
            self.log_change(
                request,
                conversation,
                f"Read the messages to investigate: {form.cleaned_data['reason']}",
            )
            context["messages_read"] = conversation.messages.order_by("created")
            for name, model in (("calls", ModelCall), ("errors", ErrorRecord)):
                rows = model.objects.filter(conversation=conversation)
                context[name] = rows.order_by("-created")[:INVESTIGATE_ROWS]
                context[f"{name}_count"] = rows.count()
                context[f"{name}_url"] = (
                    reverse(f"admin:chat_{model._meta.model_name}_changelist")
                    + f"?conversation__id__exact={conversation.pk}"
                )
        return TemplateResponse(
            request, "admin/chat/conversation/investigate.html", context
        )


@admin.register(Message)
class MessageAdmin(LlmCacheAdminMixin, ReadOnlyAdmin):
    list_display = (
        "created",
        "role",
        "status",
        "conversation",
        "model",
        "input_tokens",
        "output_tokens",
        "usage_estimated",
        "cost",
        "ttft_ms",
    )
    list_filter = ("role", "status", "model", "usage_estimated", "created")
    search_fields = ("conversation__title", "conversation__user__username", "id")
    list_select_related = ("conversation",)
    exclude = ("content",)
    readonly_fields = ("investigate",)
    actions = CACHE_ACTIONS

    def action_checkbox(self, obj):
        # Django labels the checkbox with str(message), which starts with its text.
        return super().action_checkbox(Message(pk=obj.pk, role=obj.role))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page would be titled by str(message), which starts with its text.
        extra_context = {"subtitle": f"Message {object_id}", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        # One message out of a conversation would falsify it; delete conversations.
        return False

    @admin.display(description="text")
    def investigate(self, obj: Message) -> str:
        url = reverse("admin:chat_conversation_investigate", args=[obj.conversation_id])
        return format_html('<a href="{}">Read in its conversation (audited)</a>', url)


# --- Usage ---------------------------------------------------------------------------


@admin.register(ModelCall)
class ModelCallAdmin(NavListMixin, LlmCacheAdminMixin, ReadOnlyAdmin):
    list_display = (
        "created",
        "user_column",
        "model",
        "status",
        "tokens",
        "cost_column",
        "cache_hit",
        "ttft_ms",
        "duration_ms",
        "conversation_column",
        "trace",
    )
    list_filter = ("model", "status", "cache_hit", "usage_estimated", "created")
    search_fields = ("user__username", "run_id", "model")
    list_select_related = ("user",)
    readonly_fields = ("trace",)
    nav = "calls"
    actions = [clear_cache_for_models, clear_cache_for_users, clear_whole_cache]

    @admin.display(description="user", ordering="user__username")
    def user_column(self, obj: ModelCall) -> str:
        return user_link(obj.user_id, obj.user.get_username())

    @admin.display(description="conversation")
    def conversation_column(self, obj: ModelCall) -> str:
        return conversation_link(obj.conversation_id)

    @admin.display(description="cost", ordering="cost")
    def cost_column(self, obj: ModelCall) -> str:
        return money(obj.cost)

    @admin.display(description="tokens in / out", ordering="output_tokens")
    def tokens(self, obj: ModelCall) -> str:
        cached = (
            f" ({obj.cached_input_tokens:,} cached)" if obj.cached_input_tokens else ""
        )
        estimated = " ≈" if obj.usage_estimated else ""
        return f"{obj.input_tokens:,}{cached} / {obj.output_tokens:,}{estimated}"

    @admin.display(description="trace")
    def trace(self, obj: ModelCall) -> str:
        url = trace_url(obj.run_id)
        if not url:
            return obj.run_id[:8] or "—"
        return format_html(
            '<a href="{}" rel="noopener" target="_blank">{}</a>', url, "LangSmith"
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("dashboard/", view, name="chat_modelcall_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        """Usage over a range of days: cost, tokens, users, cache, latency."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form, span = dashboard.range_form(request.GET)
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage dashboard",
            "opts": self.opts,
            "form": form,
            "presets": [
                (days, dashboard.DateRange.last_days(days))
                for days in dashboard.PRESETS
            ],
            "nav": admin_nav("dashboard"),
            "user_change_url": _user_change_url(),
            "errors_url": reverse("admin:chat_errorrecord_changelist"),
            **dashboard.usage_report(span),
        }
        return TemplateResponse(request, "admin/chat/modelcall/dashboard.html", context)


# --- Errors --------------------------------------------------------------------------


@admin.register(ErrorRecord)
class ErrorRecordAdmin(NavListMixin, ReadOnlyAdmin):
    list_display = (
        "created",
        "kind",
        "code",
        "user_column",
        "conversation_column",
        "turn_id",
        "short_detail",
    )
    list_filter = ("kind", "code", "created")
    search_fields = ("detail", "turn_id", "user__username", "endpoint")
    list_select_related = ("user",)
    readonly_fields = ("user_column", "conversation_column")
    nav = "errors"
    change_list_template = "admin/chat/errorrecord/change_list.html"

    @admin.display(description="user", ordering="user__username")
    def user_column(self, obj: ErrorRecord) -> str:
        return user_link(obj.user_id, obj.user.get_username() if obj.user else "")

    @admin.display(description="conversation")
    def conversation_column(self, obj: ErrorRecord) -> str:
        return conversation_link(obj.conversation_id)

    @admin.display(description="detail")
    def short_detail(self, obj: ErrorRecord) -> str:
        return obj.detail[:80] + ("…" if len(obj.detail) > 80 else "")

    def changelist_view(self, request, extra_context=None):
        """The list, with counts by kind and code and a chart per day above it, all
        over the records the filters select."""
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            records = context["cl"].queryset
            latest = records.aggregate(latest=Max("created"))["latest"]
            last_day = timezone.localdate(latest) if latest else None
            span = dashboard.DateRange.last_days(dashboard.DEFAULT_DAYS, last_day)
            context["report"] = dashboard.error_report(records, span)
        return response


# --- Users ---------------------------------------------------------------------------


def _log_users(request, ids: list, message: str) -> None:
    """One admin log entry per user the action touched."""
    if ids:
        LogEntry.objects.log_actions(
            request.user.pk, User.objects.filter(pk__in=ids), CHANGE, message
        )


@admin.action(description="Block selected users (no login, no new messages)")
def block_users(modeladmin, request, queryset):
    ids = list(
        queryset.exclude(pk=request.user.pk)
        .filter(is_active=True)
        .values_list("pk", flat=True)
    )
    User.objects.filter(pk__in=ids).update(is_active=False)
    _log_users(request, ids, "Blocked.")
    modeladmin.message_user(request, f"Blocked {len(ids)} user(s).", messages.SUCCESS)
    if queryset.filter(pk=request.user.pk).exists():
        modeladmin.message_user(request, "You cannot block yourself.", messages.WARNING)


@admin.action(description="Unblock selected users")
def unblock_users(modeladmin, request, queryset):
    ids = list(queryset.filter(is_active=False).values_list("pk", flat=True))
    User.objects.filter(pk__in=ids).update(is_active=True)
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
        if QUOTA is not None:
            users = users.select_related("chat_quota")
        return users

    def get_list_filter(self, request):
        if QUOTA is None:
            return self.list_filter
        return (*self.list_filter, "chat_quota__plan")

    @staticmethod
    def _quota(user):
        if QUOTA is None:
            return None
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
        if QUOTA is None:
            return "site defaults"
        from chat.limits.admin_quota import describe

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
        return format_html(
            "{} tokens today; {} tokens and {} this month "
            '(<a href="{}?user__id__exact={}">calls</a>)',
            f"{user.tokens_today:,}",
            f"{user.tokens_month:,}",
            money(user.cost_month),
            reverse("admin:chat_modelcall_changelist"),
            user.pk,
        )

    @admin.display(description="recent conversations")
    def recent_conversations(self, user) -> str:
        if user.pk is None:
            return "—"
        rows = Conversation.objects.filter(user=user).order_by("-updated")[:10]
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> · {} · <a href="{}">read (audited)</a></li>',
            (
                (
                    _admin_url(Conversation, c.pk),
                    c,
                    timezone.localtime(c.updated).strftime("%Y-%m-%d %H:%M"),
                    reverse("admin:chat_conversation_investigate", args=[c.pk]),
                )
                for c in rows
            ),
        )
        if not items:
            return "None yet."
        return format_html('<ul class="chat-plain-list">{}</ul>', items)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        forget_quota(form.instance.pk)  # a quota edited inline applies at once


if admin.site.is_registered(User):
    admin.site.unregister(User)
if QUOTA is not None:
    from chat.limits.admin_quota import QuotaAdmin

    class QuotaInline(admin.StackedInline):
        model = QUOTA
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

    ChatUserAdmin.inlines = [QuotaInline]
    admin.site.register(QUOTA, QuotaAdmin)
admin.site.register(User, ChatUserAdmin)
