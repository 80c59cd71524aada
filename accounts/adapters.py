"""allauth adapters: sign-up modes, lockouts per account, verified email first."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.email_verification import (
    send_verification_email_at_login,
)
from allauth.account.models import EmailAddress, Login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts import lockouts, oidc
from accounts import signup as signups

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "account_locked": _(
            "This account is locked after too many failed log-ins. "
            "Try again later, or ask an administrator to unlock it."
        ),
        "too_many_login_attempts": _(
            "Too many failed log-ins from your network. Try again later."
        ),
        "email_domain": _("Sign-up is limited to other email domains."),
        "sso_only": _("Log in with single sign-on."),
    }

    def is_open_for_signup(self, request) -> bool:
        return not settings.CHAT_SSO_ONLY and signups.is_open(request)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """A mail server that is down costs the email, not the page: the answer
        must read the same whether or not an email went out. Only the kind of
        email and the error class are logged (never the link or the address)."""
        try:
            super().send_mail(template_prefix, email, context)
        except (smtplib.SMTPException, OSError) as exc:
            logger.error(
                "email not sent",
                extra={"template": template_prefix, "error": type(exc).__name__},
            )

    def clean_email(self, email: str) -> str:
        if not signups.email_domain_allowed(email):
            raise self.validation_error("email_domain")
        return email

    def save_user(self, request, user, form, commit=True):
        try:
            invitation = signups.invitation_use(request)
        except signups.InvitationUnusable:
            raise ImmediateHttpResponse(
                render(request, "account/signup_closed.html", status=403)
            ) from None
        user = super().save_user(request, user, form, commit=commit)
        method = "invite" if invitation else "open"
        signups.enrolment_record(
            user=user,
            method=method,
            invitation=invitation,
            address=self.get_client_ip(request),
        )
        return user

    def pre_login(self, request, user, *, signup: bool, signal_kwargs, **kwargs):
        """A password sign-up is answered like one with an email that is already
        taken: "we sent you an email", not logged in, so the answer tells nobody
        which addresses have accounts."""
        response = super().pre_login(
            request, user, signup=signup, signal_kwargs=signal_kwargs, **kwargs
        )
        if response or not signup or (signal_kwargs or {}).get("sociallogin"):
            return response
        send_verification_email_at_login(
            request, Login(user=user, email=kwargs.get("email"), signup=True)
        )
        return self.respond_email_verification_sent(request, user)

    # Failed logins are counted per account (any of its names), not per string.
    def _get_login_attempts_cache_key(self, request, **credentials: Any) -> str:
        return lockouts.account_key(credentials)

    def pre_authenticate(self, request, **credentials: Any) -> None:
        if settings.CHAT_SSO_ONLY:
            raise self.validation_error("sso_only")
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            if lockouts.note_refusal(lockouts.account_key(credentials)):
                raise self.validation_error("account_locked") from None
            raise

    def authentication_failed(self, request, **credentials: Any) -> None:
        lockouts.note_failure(request, credentials, self.get_client_ip(request))

    def get_client_ip(self, request) -> str:
        """A request that did not pass the trusted proxy (no X-Forwarded-For)
        is counted by its own address rather than refused."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            return request.META.get("REMOTE_ADDR", "")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request, provider, client_id=None):
        """OpenID Connect apps get the provider that sends and checks a nonce."""
        found = super().get_provider(request, provider, client_id=client_id)
        if type(found) is OpenIDConnectProvider:
            return oidc.NonceOpenIDConnectProvider(request, app=found.app)
        return found

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        """A failed single sign-on says why on the page's own error page: a
        callback that does not belong to this browser's login (wrong or replayed
        state, wrong nonce) is a 400; the provider refusing or failing, a 502."""
        if error == AuthError.CANCELLED:
            return
        context = extra_context or {}
        mismatch = isinstance(exception, oidc.NonceMismatch) or (
            "state_id" in context and not context.get("state")
        )
        logger.warning(
            "single sign-on failed",
            extra={
                "provider": getattr(provider, "id", ""),
                "reason": "mismatch" if mismatch else str(error or "error"),
            },
        )
        raise ImmediateHttpResponse(
            render(
                request,
                "socialaccount/authentication_error.html",
                {"provider_name": getattr(provider, "name", ""), "mismatch": mismatch},
                status=400 if mismatch else 502,
            )
        )

    def pre_social_login(self, request, sociallogin) -> None:
        """An ID token without this login's nonce is refused, like a wrong state."""
        provider = sociallogin.account.get_provider(request)
        if isinstance(provider, oidc.NonceOpenIDConnectProvider):
            try:
                provider.nonce_check(sociallogin)
            except oidc.NonceMismatch as exc:
                raise ImmediateHttpResponse(
                    render_authentication_error(request, provider, exception=exc)
                ) from None
        super().pre_social_login(request, sociallogin)

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return signups.is_open(request)

    def save_user(self, request, sociallogin, form=None):
        try:
            invitation = signups.invitation_use(request)
        except signups.InvitationUnusable:
            raise ImmediateHttpResponse(
                render(request, "account/signup_closed.html", status=403)
            ) from None
        user = super().save_user(request, sociallogin, form)
        signups.enrolment_record(
            user=user, method="sso", invitation=invitation, address=None
        )
        return user

    def authenticate_by_email(self, sociallogin):
        """Link to an existing account only when both sides verified the address:
        the provider says so, and the account confirmed it here (an address typed
        at sign-up and never confirmed could be someone else's)."""
        found = super().authenticate_by_email(sociallogin)
        if found is None:
            return None
        user, email = found
        if not EmailAddress.objects.filter(
            user=user, email__iexact=email, verified=True
        ).exists():
            return None
        return found
