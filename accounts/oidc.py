"""OpenID Connect with a nonce.

allauth's generic provider (65.x) sends no `nonce` and checks none, so an ID token
issued for another authorization request would be taken. This subclass, which
accounts.adapters.SocialAccountAdapter.get_provider hands out in its place, puts a
fresh nonce in each authorization request and keeps it in the login's state (in
the session, beside the `state` allauth already checks); the adapter's
pre_social_login then refuses an ID token that does not carry it.
"""

from __future__ import annotations

import hmac
import secrets

from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
)


class NonceMismatch(Exception):
    """The ID token was not issued for the authorization request this login made."""


class NonceOpenIDConnectProvider(OpenIDConnectProvider):
    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        # Extra keyword arguments are stashed in the login's state.
        return super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params={**auth_params, "nonce": nonce},
            nonce=nonce,
            **kwargs,
        )

    @staticmethod
    def nonce_check(sociallogin) -> None:
        """Raise NonceMismatch unless the ID token carries this login's nonce."""
        sent = (sociallogin.state or {}).get("nonce")
        id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
        got = id_token.get("nonce")
        if not (
            isinstance(sent, str)
            and isinstance(got, str)
            and hmac.compare_digest(sent.encode(), got.encode())
        ):
            raise NonceMismatch()
