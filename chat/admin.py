"""Admin: conversations and messages to investigate, usage and errors read-only
(editing them would falsify history)."""

from django.contrib import admin

from chat.models import Conversation, ErrorRecord, Message, ModelCall


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created", "role", "status", "short_content", "output_tokens", "cost")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="content")
    def short_content(self, obj):
        return obj.content[:120]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created", "updated")
    list_filter = ("created",)
    search_fields = ("title", "user__username", "id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("id", "created", "updated")
    date_hierarchy = "created"
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
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
    search_fields = ("content", "conversation__title", "conversation__user__username")
    list_select_related = ("conversation",)
    date_hierarchy = "created"


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created",
        "user",
        "model",
        "status",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "usage_estimated",
        "cost",
        "cache_hit",
        "ttft_ms",
        "duration_ms",
    )
    list_filter = ("model", "status", "cache_hit", "usage_estimated", "created")
    search_fields = ("user__username", "run_id", "model")
    list_select_related = ("user",)
    date_hierarchy = "created"


@admin.register(ErrorRecord)
class ErrorRecordAdmin(ReadOnlyAdmin):
    list_display = ("created", "kind", "code", "user", "endpoint", "turn_id")
    list_filter = ("kind", "code", "created")
    search_fields = ("detail", "turn_id", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created"
