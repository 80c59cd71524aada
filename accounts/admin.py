"""Invitations (made here, link shown once), enrolments and login lockouts."""

import datetime as dt

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts import lockouts
from accounts.models import Enrolment, Invitation, Lockout


def _in_a_week():
    return timezone.now() + dt.timedelta(days=7)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "uses", "max_uses", "expires", "state", "created_by")
    list_filter = ("revoked",)
    fields = ("note", "expires", "max_uses", "revoked", "uses", "created_by")
    readonly_fields = ("uses", "created_by")
    actions = ["revoke"]

    def get_changeform_initial_data(self, request):
        return {"expires": _in_a_week(), "max_uses": 1}

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        if invitation.revoked:
            return "revoked"
        if invitation.uses >= invitation.max_uses:
            return "used up"
        if invitation.expires <= timezone.now():
            return "expired"
        return "usable"

    def save_model(self, request, obj, form, change):
        token = None
        if not change:
            obj.created_by = request.user
            token = obj.new_token()
        super().save_model(request, obj, form, change)
        if token:
            link = request.build_absolute_uri(reverse("invitation", args=[token]))
            messages.success(
                request,
                format_html(
                    "Invitation link (shown once, copy it now): <code>{}</code>", link
                ),
            )

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        count = queryset.update(revoked=True)
        self.message_user(request, f"Revoked {count} invitation(s).")


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    """How each account joined: a record, so read-only."""

    list_display = ("user", "method", "invitation", "address", "created")
    list_filter = ("method",)
    search_fields = ("user__username", "user__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    """Accounts locked by failed logins; clearing one lets it log in at once."""

    list_display = ("login", "user", "address", "locked", "until", "active", "refused")
    search_fields = ("login", "user__username", "address")
    actions = ["clear"]

    @admin.display(boolean=True)
    def active(self, lockout: Lockout) -> bool:
        return lockout.active

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        lockouts.clear(obj)

    def delete_queryset(self, request, queryset):
        for lockout in queryset:
            lockouts.clear(lockout)

    @admin.action(description="Clear the selected lockouts", permissions=["delete"])
    def clear(self, request, queryset):
        count = 0
        for lockout in queryset:
            lockouts.clear(lockout)
            count += 1
        self.message_user(request, f"Cleared {count} lockout(s).")
