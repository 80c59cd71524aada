"""The login and sign-up forms; sign-up answers a taken address like a new one."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.internal.flows.email_verification import (
    send_verification_email_to_address,
)
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from django.utils.translation import gettext_lazy as _


class SignupForm(AllauthSignupForm):
    """allauth hides a taken address only when verification is mandatory, which
    would lock out accounts with no address (made by staff, or before allauth).
    Here verification stays optional, and a taken address still gets the same
    "we sent you an email" answer as a new one; its owner gets an email saying the
    account exists."""

    def validate_unique_email(self, value: str) -> str:
        email = get_adapter().validate_unique_email(value)
        self.account_already_exists = bool(filter_users_by_email(email))
        return email

    def try_save(self, request):
        if not self.account_already_exists:
            return super().try_save(request)
        address = EmailAddress(user=None, email=self.cleaned_data["email"])
        send_verification_email_to_address(request, address, signup=True)
        return None, get_adapter().respond_email_verification_sent(request, None)


class LoginForm(AllauthLoginForm):
    """Says what the one field takes: a username or an email address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or email")
