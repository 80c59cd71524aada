"""Staff see every API key (never the key itself: it is not stored) and revoke them."""

from django.contrib import admin, messages

from api.keys import key_revoke
from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created",
        "last_used",
        "expires",
        "status",
    )
    list_filter = ("revoked", "expires", "created")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created",
        "last_used",
        "expires",
        "revoked",
    )
    exclude = ("hashed",)
    actions = ["revoke_keys"]

    def has_add_permission(self, request) -> bool:
        # A key made here could not be shown to its owner; users make their own
        # (settings page) and operators use `manage.py create_api_key`.
        return False

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset) -> None:
        live = list(queryset.filter(revoked__isnull=True))
        for key in live:
            key_revoke(key=key)
        self.message_user(request, f"Revoked {len(live)} key(s).", messages.SUCCESS)
