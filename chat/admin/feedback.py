"""Feedback on replies: the ratings and comments people gave, and the rated
exchanges exported as an evaluation dataset (an audited action: it carries the
messages' text out of the admin)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone

from chat.admin.base import NavListMixin, ReadOnlyAdmin, conversation_link, user_link
from chat.feedback import dataset_jsonl
from chat.models import Feedback


@admin.action(description="Export selected as an evaluation dataset (JSON Lines)")
def export_dataset(modeladmin, request, queryset):
    """Prompt, reply, rating, comment and model of each, one JSON object a line;
    recorded in the admin log, as reading messages is."""
    if not request.user.has_perm("chat.view_message"):
        raise PermissionDenied
    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(Feedback),
        object_repr=f"{queryset.count()} feedback rows",
        action_flag=CHANGE,
        change_message="Exported rated replies with their text as a dataset.",
    )
    name = f"feedback-{timezone.localdate():%Y-%m-%d}.jsonl"
    response = StreamingHttpResponse(
        dataset_jsonl(queryset), content_type="application/jsonl; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin.register(Feedback)
class FeedbackAdmin(NavListMixin, ReadOnlyAdmin):
    list_display = (
        "updated",
        "rating",
        "model",
        "catalogue_key",
        "user_column",
        "conversation_column",
        "comment",
    )
    list_filter = ("rating", "model", "catalogue_key", "updated")
    search_fields = ("comment", "model", "user__username")
    list_select_related = ("user", "message")
    exclude = ("message",)
    readonly_fields = ("user_column", "conversation_column")
    actions = [export_dataset]
    nav = "feedback"

    @admin.display(description="user", ordering="user__username")
    def user_column(self, obj: Feedback) -> str:
        return user_link(obj.user_id, obj.user.get_username())

    @admin.display(description="conversation")
    def conversation_column(self, obj: Feedback) -> str:
        return conversation_link(obj.message.conversation_id)
