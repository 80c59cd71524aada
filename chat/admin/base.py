"""What the admin pages share: read-only records, the links between the
observability pages, links to a user or a conversation."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import format_html

from chat.models import Conversation

User = get_user_model()
STYLESHEET = "admin/chat/observability.css"


class StyledMedia:
    css = {"all": [STYLESHEET]}


def admin_url(model, pk) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


def user_change_url() -> str:
    """The URL name of the user change page, whatever the user model."""
    return f"admin:{User._meta.app_label}_{User._meta.model_name}_change"


def user_link(user_id, name: str) -> str:
    if user_id is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_url(User, user_id), name)


def conversation_link(conversation_id) -> str:
    if conversation_id is None:
        return "—"
    return format_html(
        '<a href="{}" title="{}">{}…</a>',
        admin_url(Conversation, conversation_id),
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
        ("feedback", "Feedback", "admin:chat_feedback_changelist"),
        (
            "users",
            "Users",
            f"admin:{user_meta.app_label}_{user_meta.model_name}_changelist",
        ),
    ]
    return [(label, reverse(name), key == active) for key, label, name in pages]


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
