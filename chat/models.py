"""Conversations, their messages, and what each reply used and cost."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

from chat.rate_rules import validate_rate_limits


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated"]
        indexes = [models.Index(fields=["user", "-updated"])]

    def __str__(self) -> str:
        return self.title or str(self.id)


class UsageFields(models.Model):
    """What producing a reply used, cost and took, and how it failed: stored on the
    reply (Message) and on each ledger row (ModelCall)."""

    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    # True when the provider reported no usage and the figures are our own count.
    usage_estimated = models.BooleanField(default=False)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal(0))
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True


USAGE_FIELDS = tuple(field.name for field in UsageFields._meta.fields)


class Message(UsageFields):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        COMPLETE = "complete", "Complete"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted"
        FILTERED = "filtered", "Filtered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.COMPLETE, db_index=True
    )
    # The client-made id of a send (on the user message) or of a regenerate or
    # continue (on the reply it made): a resend with the same id is the same turn.
    client_id = models.UUIDField(null=True, blank=True)
    # The user message an assistant message answers.
    reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reply"
    )
    # A regenerated reply names the one it replaced; a continuation the reply it
    # carries on (the text reads as one, the rows stay apart for the ledger).
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    continues = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Replaced by a regenerated reply: kept for the record, left out of the page and
    # of later prompts.
    superseded = models.BooleanField(default=False)
    model = models.CharField(max_length=100, blank=True)
    # The response-cache key this reply was stored under or served from; lets an
    # admin purge the entry behind a wrong reply.
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    # Guard decisions for this message, e.g. injection rules that fired when the
    # policy is "flag" (the message went through but is marked for review).
    flags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    # Touched while streaming (with the partial text), so a sweeper can tell a live
    # reply from one whose process died.
    updated = models.DateTimeField(auto_now=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"], name="unique_client_id"
            )
        ]
        indexes = [models.Index(fields=["status", "updated"])]

    def __str__(self) -> str:
        # No text: admin pages and logs must not show what people wrote.
        return f"{self.role} message {self.pk}"


class ModelCallQuerySet(models.QuerySet):
    def billed(self, *, since: datetime, until: datetime | None = None, user=None):
        """Calls the provider answered in [since, until), optionally one user's: what
        totals and budgets count (a cache hit costs nothing)."""
        calls = self.filter(created__gte=since, cache_hit=False)
        if until is not None:
            calls = calls.filter(created__lt=until)
        if user is not None:
            calls = calls.filter(user=user)
        return calls


class ModelCall(UsageFields):
    """One row per model call: the usage ledger that totals, budgets and dashboards
    read. It outlives deleted conversations so history and spending stay true."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_calls"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    model = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Message.Status.choices)
    cache_hit = models.BooleanField(default=False)
    run_id = models.CharField(max_length=64, blank=True)
    # The API key the call was made with (None: the page).
    api_key = models.ForeignKey(
        "api.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ModelCallQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["user", "created"]),
            models.Index(fields=["model", "created"]),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.status} {self.created:%Y-%m-%d %H:%M}"


class ErrorRecord(models.Model):
    """A failure an operator should be able to see: what, who, where and when."""

    kind = models.CharField(max_length=64, db_index=True)
    code = models.CharField(max_length=32, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL
    )
    endpoint = models.CharField(max_length=200, blank=True)
    detail = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    turn_id = models.CharField(max_length=64, blank=True, db_index=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.code}: {self.kind}"


_DEFAULT = "Blank: the site default ({})."


class Quota(models.Model):
    """A user's limits where they differ from the site defaults; blank fields
    follow the defaults, so changing a default changes it for them too."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_quota"
    )
    plan = models.CharField(
        max_length=50,
        blank=True,
        db_index=True,
        help_text="A label for reports and filters, e.g. free, team or staff.",
    )
    unlimited = models.BooleanField(
        default=False,
        help_text="No rate limit and no budgets (replies in flight are still "
        "limited, and so is the provider's capacity).",
    )
    rate_limits = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_rate_limits],
        help_text='Requests per window, e.g. "10/1m, 200/1d"; 0/1m blocks. '
        + _DEFAULT.format("CHAT_RATE_LIMITS"),
    )
    max_concurrent_replies = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Replies in flight at once; 0 blocks. "
        + _DEFAULT.format("CHAT_MAX_CONCURRENT_REPLIES"),
    )
    tokens_per_day = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Input plus output tokens per day. "
        + _DEFAULT.format("CHAT_BUDGET_TOKENS_PER_DAY"),
    )
    tokens_per_month = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text=_DEFAULT.format("CHAT_BUDGET_TOKENS_PER_MONTH"),
    )
    cost_per_day = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Spending per day, in the price table's currency. "
        + _DEFAULT.format("CHAT_BUDGET_COST_PER_DAY"),
    )
    cost_per_month = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_DEFAULT.format("CHAT_BUDGET_COST_PER_MONTH"),
    )
    note = models.TextField(blank=True, help_text="Why this user has these limits.")
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Quota for {self.user}"
