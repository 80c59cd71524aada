"""How accounts join (invitations, enrolments) and which are locked out."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """A sign-up link staff hand out when CHAT_SIGNUP is `invite`; only its hash
    is stored, so the link is shown once, when it is made."""

    note = models.CharField(max_length=200, blank=True, help_text="Who it is for.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0, editable=False)
    revoked = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.note or f"invitation {self.pk}"

    def new_token(self) -> str:
        """Give the invitation a fresh secret; returns it (stored only hashed)."""
        token = secrets.token_urlsafe(24)
        self.token_hash = token_hash(token)
        return token

    @property
    def usable(self) -> bool:
        return (
            not self.revoked
            and self.uses < self.max_uses
            and self.expires > timezone.now()
        )


class Enrolment(models.Model):
    """How an account joined: open sign-up must verify its email before chatting."""

    class Method(models.TextChoices):
        OPEN = "open"
        INVITE = "invite"
        SSO = "sso"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.method})"


class Lockout(models.Model):
    """An account locked by failed logins, recorded so staff can see and clear it;
    the count itself lives in the cache (accounts/lockouts.py)."""

    login = models.CharField(max_length=254, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    locked = models.DateTimeField()
    until = models.DateTimeField()
    refused = models.PositiveIntegerField(
        default=0, help_text="Attempts refused while locked."
    )

    class Meta:
        ordering = ["-locked"]

    def __str__(self) -> str:
        return self.login

    @property
    def active(self) -> bool:
        return self.until > timezone.now()


class Preferences(models.Model):
    """How a person likes the page, kept with the account so every browser they
    sign in from shows it from the first paint."""

    class Theme(models.TextChoices):
        SYSTEM = "system"  # follow the browser's prefers-color-scheme
        LIGHT = "light"
        DARK = "dark"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user} ({self.theme})"
