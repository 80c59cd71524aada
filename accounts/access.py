"""Whether an account may use the service right now; read afresh from the
database, since a socket's or key's user object can be older than a block."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from accounts.models import Enrolment


def is_blocked(user) -> bool:
    """Blocked (inactive) or deleted since the caller loaded it."""
    users = get_user_model()._default_manager
    return not users.filter(pk=user.pk, is_active=True).exists()


async def ais_blocked(user) -> bool:
    users = get_user_model()._default_manager
    return not await users.filter(pk=user.pk, is_active=True).aexists()


def needs_email_verification(user) -> bool:
    """Accounts from open sign-up chat only once their email is verified."""
    return (
        Enrolment.objects.filter(user=user, method=Enrolment.Method.OPEN).exists()
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    )
