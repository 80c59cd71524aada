"""Per-user quotas: where a user's limits differ from the site defaults. Imported by
chat/models.py, so the model lives in the chat app and its migrations."""

from django.conf import settings
from django.db import models

from chat.limits.rate import validate_rate_limits

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

    class Meta:
        app_label = "chat"

    def __str__(self) -> str:
        return f"Quota for {self.user}"
