"""Error records: what failed, for whom, with counts and a chart over the list."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Max
from django.utils import timezone

from chat.admin.base import NavListMixin, ReadOnlyAdmin, conversation_link, user_link
from chat.models import ErrorRecord
from chat.observability import dashboard


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
