"""Who may open an account (CHAT_SIGNUP: closed, invite or open) and invitations."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Enrolment, Invitation, token_hash

MODES = ("closed", "invite", "open")
SESSION_KEY = "accounts.invitation"


class InvitationUnusable(Exception):
    """The invitation expired, was revoked or has no uses left."""


def invitation_accept(request: HttpRequest, token: str) -> Invitation | None:
    """Remember a usable invitation in the session for the sign-up that follows;
    None if the token names no invitation, InvitationUnusable if it is spent."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        return None
    if not invitation.usable:
        raise InvitationUnusable()
    request.session[SESSION_KEY] = invitation.pk
    return invitation


def session_invitation(request: HttpRequest) -> Invitation | None:
    pk = request.session.get(SESSION_KEY)
    invitation = Invitation.objects.filter(pk=pk).first() if pk else None
    return invitation if invitation is not None and invitation.usable else None


def is_open(request: HttpRequest) -> bool:
    """May this request open an account (password or single sign-on)?"""
    mode = settings.CHAT_SIGNUP
    if mode == "open":
        return True
    if mode == "invite":
        return session_invitation(request) is not None
    return False


def invitation_use(request: HttpRequest) -> Invitation | None:
    """Spend one use of the session's invitation, atomically (two sign-ups racing
    for the last use cannot both have it); raises InvitationUnusable if none is
    left. Outside invite mode nothing is spent."""
    if settings.CHAT_SIGNUP != "invite":
        return None
    pk = request.session.get(SESSION_KEY)
    spent = Invitation.objects.filter(
        pk=pk, revoked=False, uses__lt=F("max_uses"), expires__gt=timezone.now()
    ).update(uses=F("uses") + 1)
    if not pk or not spent:
        raise InvitationUnusable()
    return Invitation.objects.get(pk=pk)


def enrolment_record(
    *, user, method: str, invitation: Invitation | None, address: str | None
) -> Enrolment:
    return Enrolment.objects.create(
        user=user, method=method, invitation=invitation, address=address
    )


def email_domain_allowed(email: str) -> bool:
    domains = [d.lower().lstrip("@") for d in settings.CHAT_SIGNUP_EMAIL_DOMAINS]
    return not domains or email.rpartition("@")[2].lower() in domains
