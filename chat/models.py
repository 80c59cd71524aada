"""Conversations, their messages, and what each reply used and cost."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

from chat.rate_rules import validate_rate_limits


class Conversation(models.Model):
    class TitleSource(models.TextChoices):
        # The first line of the first message (chat.titles.fallback_title); the
        # model is asked for a better one once the first reply completes.
        FIRST_LINE = "first_line", "First line"
        # The model was asked (once): its title, or the first line if it failed.
        MODEL = "model", "Model"
        # Renamed by its owner: never retitled.
        USER = "user", "User"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    title_source = models.CharField(
        max_length=16,
        choices=TitleSource.choices,
        default=TitleSource.FIRST_LINE,
        db_default=TitleSource.FIRST_LINE,
    )
    # Pinned ones head the sidebar; archived ones leave it for the Archived view.
    pinned = models.BooleanField(default=False, db_default=False)
    archived = models.BooleanField(default=False, db_default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)
    # The catalogue entry its turns use (chat.catalogue); blank: the default.
    model_key = models.CharField(max_length=64, blank=True, db_default="")
    # The user's own system prompt and generation settings for this conversation
    # (copied from a preset on start); None: the model's defaults.
    system_prompt = models.TextField(blank=True, db_default="")
    temperature = models.FloatField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    preset = models.ForeignKey(
        "Preset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Tool names the user switched off here (chat.tools): never more than given.
    tools_off = models.JSONField(default=list, blank=True, db_default=[])
    # The last message of the branch the user sees: the page shows, and prompts
    # use, the path from the root to it (chat/tree.py). None: no messages yet.
    active_leaf = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated"]
        indexes = [
            models.Index(fields=["user", "-updated"]),
            # The sidebar's pages (chat.conversation_list): one range scan each.
            models.Index(
                fields=["user", "archived", "-pinned", "-updated", "-id"],
                name="chat_conversation_page",
            ),
        ]

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
    # The message this one follows (None: a first message). A conversation is a
    # tree: an edit is a new child of the edited message's parent, a regenerated
    # reply a new child of its user message, a continuation a child of the reply it
    # carries on; siblings are the versions of one message (chat/tree.py).
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    # The provider stopped at the token limit (finish_reason "length"): the reply
    # is cut short even though its status is complete, and can be continued.
    truncated = models.BooleanField(default=False, db_default=False)
    model = models.CharField(max_length=100, blank=True)
    # The response-cache key this reply was stored under or served from; lets an
    # admin purge the entry behind a wrong reply.
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    # Guard decisions for this message, e.g. injection rules that fired when the
    # policy is "flag" (the message went through but is marked for review).
    flags = models.JSONField(default=list, blank=True)
    # The tool calls of the reply's turn, as the page shows them (chat.tools.turn).
    tool_steps = models.JSONField(default=list, blank=True, db_default=[])
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

    class Purpose(models.TextChoices):
        REPLY = "reply", "Reply"
        TITLE = "title", "Title"  # a conversation's title (chat.titling)

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
    # The catalogue entry (chat.catalogue) the call was made for.
    catalogue_key = models.CharField(
        max_length=64, blank=True, db_index=True, db_default=""
    )
    endpoint = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Message.Status.choices)
    cache_hit = models.BooleanField(default=False)
    purpose = models.CharField(
        max_length=16,
        choices=Purpose.choices,
        default=Purpose.REPLY,
        db_default=Purpose.REPLY,
    )
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


class CatalogueEntry(models.Model):
    """A model people may chat with, as the operator configured it in admin.

    The API key is never stored: only the name of the environment variable that
    holds it. Read through chat.catalogue, which caches entries in every process
    and reloads them when any process saves one."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField("display name", max_length=100)
    # Provider, model, endpoint, key, window, prices and fallbacks follow the
    # environment (LLM_BACKEND, LLM_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY,
    # CHAT_MODELS, LLM_FALLBACKS) at use time: how an existing deploy keeps working.
    from_environment = models.BooleanField(
        default=False,
        help_text="Take the provider, model, endpoint, API key, prices and fallbacks "
        "from the server's settings (LLM_MODEL, OPENAI_BASE_URL...) instead of the "
        "fields below.",
    )
    provider = models.CharField(
        max_length=50,
        default="openai",
        help_text="A LangChain init_chat_model provider (openai, anthropic, "
        "google_genai...; its integration package must be installed), or 'demo'.",
    )
    base_url = models.CharField(
        "base URL", max_length=200, blank=True, help_text="Blank: the provider's own."
    )
    api_key_env = models.CharField(
        "API key variable",
        max_length=100,
        blank=True,
        help_text="The NAME of the environment variable holding the API key, never "
        "the key itself. Blank: the endpoint needs no key.",
    )
    model = models.CharField(
        "provider model name", max_length=100, blank=True, help_text="Blank: the key."
    )
    context_window = models.PositiveIntegerField(default=8192)
    max_output_tokens = models.PositiveIntegerField(
        default=1024, help_text="The most a conversation may ask for in one reply."
    )
    # USD per million tokens.
    input_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    cached_input_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=6, default=0
    )
    output_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    streaming_usage = models.BooleanField(default=True)
    vision = models.BooleanField(default=False)
    tools = models.BooleanField(default=False)
    tool_names = models.JSONField(
        "enabled tools",
        default=list,
        blank=True,
        db_default=[],
        help_text="Tools a turn on this model may use (it must be tool-capable).",
    )
    json_mode = models.BooleanField(default=False)
    temperature = models.FloatField(default=0.7)
    top_p = models.FloatField(default=1.0)
    min_temperature = models.FloatField(default=0.0)
    max_temperature = models.FloatField(default=2.0)
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(
        "default", default=False, help_text="The model new conversations use."
    )
    sort_order = models.IntegerField(default=0)
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        help_text="Who may use it: none chosen means everyone.",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "key"]
        verbose_name = "catalogue model"
        verbose_name_plural = "catalogue models"

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class CatalogueFallback(models.Model):
    """One fallback of an entry, tried in `position` order when it fails."""

    entry = models.ForeignKey(
        CatalogueEntry, on_delete=models.CASCADE, related_name="fallback_links"
    )
    fallback = models.ForeignKey(
        CatalogueEntry, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "fallback"], name="unique_catalogue_fallback"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} -> {self.fallback_id}"


class Preset(models.Model):
    """Saved settings ("an assistant") a conversation can start from: an admin's
    (no owner, shared) or a user's own, optionally shared with everyone."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="presets",
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    model_key = models.CharField(max_length=64, blank=True)
    system_prompt = models.TextField(blank=True)
    temperature = models.FloatField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    shared = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CustomInstructions(models.Model):
    """What a user wants every conversation to know: the user's own words, sent
    as the user's, never with the operator's authority."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "custom instructions"

    def __str__(self) -> str:
        return f"custom instructions of user {self.user_id}"


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


class ToolAccess(models.Model):
    """Which groups may use a tool (chat.tools.registry): a tool without a row, or
    with no group chosen, is for everyone its model enables it for."""

    name = models.CharField(max_length=200, unique=True)
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        help_text="Who may use it: none chosen means everyone.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "tool access"
        verbose_name_plural = "tool access"

    def __str__(self) -> str:
        return self.name


class ToolArtefact(models.Model):
    """A validated PNG a tool produced during a reply, downloaded by its owner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="artefacts"
    )
    name = models.CharField(max_length=100)
    content_type = models.CharField(max_length=50, default="image/png")
    data = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"artefact {self.pk}"


class Feedback(models.Model):
    """A user's thumbs up or down (and optional comment) on one reply, with the
    model that wrote it: what the dashboard's approval rates and the evaluation
    dataset (chat.feedback) are made of."""

    class Rating(models.TextChoices):
        UP = "up", "👍"
        DOWN = "down", "👎"

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="feedback"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True)
    # Copied from the reply when rated: the provider's model name and the
    # catalogue entry it ran on.
    model = models.CharField(max_length=100, blank=True, db_index=True)
    catalogue_key = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on message {self.message_id}"


class Share(models.Model):
    """A read-only link to a conversation as it was when shared: the messages are
    copied (a frozen snapshot), and only a SHA-256 digest of the link's token is
    stored (chat.sharing)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="shares"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    # [{"role", "content", "model", "created"}, ...]: the active path when shared.
    messages = models.JSONField(default=list)
    show_name = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"share of conversation {self.conversation_id}"
