"""Share links: who shared which conversation, when, and whether the link still
works; staff can revoke any. The shared text stays off these pages."""

from __future__ import annotations

from django.contrib import admin

from chat.admin.base import ReadOnlyAdmin, conversation_link, user_link
from chat.models import Share
from chat.sharing import share_revoke_all


@admin.action(description="Revoke selected links")
def revoke_links(modeladmin, request, queryset):
    revoked = share_revoke_all(queryset)
    modeladmin.message_user(
        request, f"Revoked {revoked} link{'' if revoked == 1 else 's'}."
    )


@admin.register(Share)
class ShareAdmin(ReadOnlyAdmin):
    list_display = (
        "created",
        "user_column",
        "conversation_column",
        "show_name",
        "live",
        "revoked",
    )
    list_filter = (("revoked", admin.EmptyFieldListFilter), "show_name", "created")
    search_fields = ("user__username", "conversation__id")
    list_select_related = ("user",)
    fields = (
        "created",
        "user_column",
        "conversation_column",
        "message_count",
        "show_name",
        "revoked",
    )
    readonly_fields = fields
    actions = [revoke_links]

    def get_queryset(self, request):
        # The list needs no snapshot; the change page counts its messages.
        queryset = super().get_queryset(request)
        if request.resolver_match.url_name.endswith("_changelist"):
            queryset = queryset.defer("messages")
        return queryset

    @admin.display(description="user", ordering="user__username")
    def user_column(self, obj: Share) -> str:
        return user_link(obj.user_id, obj.user.get_username())

    @admin.display(description="conversation")
    def conversation_column(self, obj: Share) -> str:
        return conversation_link(obj.conversation_id)

    @admin.display(description="messages")
    def message_count(self, obj: Share) -> int:
        return len(obj.messages)

    @admin.display(description="live", boolean=True)
    def live(self, obj: Share) -> bool:
        return obj.revoked is None
