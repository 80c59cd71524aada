"""The usage ledger: one row per model call, and the usage dashboard over it."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from chat.admin.base import (
    NavListMixin,
    ReadOnlyAdmin,
    admin_nav,
    conversation_link,
    user_change_url,
    user_link,
)
from chat.admin.cache_actions import (
    LlmCacheAdminMixin,
    clear_cache_for_models,
    clear_cache_for_users,
    clear_whole_cache,
)
from chat.models import ModelCall
from chat.observability import dashboard
from chat.observability.charts import money
from chat.observability.tracing import trace_url


@admin.register(ModelCall)
class ModelCallAdmin(NavListMixin, LlmCacheAdminMixin, ReadOnlyAdmin):
    list_display = (
        "created",
        "user_column",
        "model",
        "catalogue_key",
        "status",
        "tokens",
        "cost_column",
        "cache_hit",
        "ttft_ms",
        "duration_ms",
        "conversation_column",
        "trace",
    )
    list_filter = (
        "purpose",
        "model",
        "catalogue_key",
        "status",
        "cache_hit",
        "usage_estimated",
        "created",
    )
    search_fields = ("user__username", "run_id", "model", "api_key__prefix")
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
            "user_change_url": user_change_url(),
            "errors_url": reverse("admin:chat_errorrecord_changelist"),
            **dashboard.usage_report(span),
        }
        return TemplateResponse(request, "admin/chat/modelcall/dashboard.html", context)
