"""Conversations and their messages: metadata on the ordinary pages, the text only
on the audited "investigate" page."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache

from chat.admin.base import ReadOnlyAdmin, StyledMedia, admin_url, user_change_url
from chat.admin.cache_actions import CACHE_ACTIONS, LlmCacheAdminMixin
from chat.models import Conversation, ErrorRecord, Message, ModelCall
from chat.observability.charts import money

# Most recent calls and errors listed beside a conversation being investigated.
INVESTIGATE_ROWS = 20


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
        rows = obj.messages.order_by("created").values(
            "pk", "created", "role", "status", "model", "output_tokens", "error_code"
        )[:500]
        if not rows:
            return "No messages."
        return render_to_string(
            "admin/chat/conversation/exchanges.html",
            {"rows": [{**row, "url": admin_url(Message, row["pk"])} for row in rows]},
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
            "user_change_url": user_change_url(),
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
        "cost_column",
        "ttft_ms",
    )
    list_filter = ("role", "status", "model", "usage_estimated", "created")
    search_fields = ("conversation__title", "conversation__user__username", "id")
    list_select_related = ("conversation",)
    exclude = ("content",)
    readonly_fields = ("investigate",)
    actions = CACHE_ACTIONS

    @admin.display(description="cost", ordering="cost")
    def cost_column(self, obj: Message) -> str:
        return money(obj.cost)

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
