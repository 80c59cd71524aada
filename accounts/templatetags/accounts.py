from django import template
from django.conf import settings

from accounts import preferences, signup

register = template.Library()


@register.simple_tag(takes_context=True)
def signup_open(context) -> bool:
    """Whether the login page offers sign-up (the mode, an invitation, SSO only)."""
    return not settings.CHAT_SSO_ONLY and signup.is_open(context["request"])


@register.simple_tag
def sso_only() -> bool:
    return settings.CHAT_SSO_ONLY


@register.simple_tag(takes_context=True)
def chosen_theme(context) -> str:
    """The signed-in user's theme for `<html data-theme>` ("" when anonymous)."""
    request = context.get("request")
    return preferences.theme_of(request.user) if request else ""
