"""The admin asks staff for a second factor when CHAT_MFA_REQUIRED_FOR_STAFF is on."""

from allauth.mfa.models import Authenticator
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


def _admin_refusal(request):
    """Staff without TOTP are sent from the admin to set it up."""
    if not (settings.CHAT_MFA_REQUIRED_FOR_STAFF and request.user.is_authenticated):
        return None
    if (
        not request.user.is_staff
        or Authenticator.objects.filter(
            user=request.user, type=Authenticator.Type.TOTP
        ).exists()
    ):
        return None
    messages.warning(
        request, "Set up a second factor (an authenticator app) to use the admin."
    )
    return redirect("mfa_activate_totp")


class StaffSecondFactorMiddleware:
    """Sync and async, so the chat's async views keep running without a thread hop;
    only admin paths are looked at."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if request.path.startswith(reverse("admin:index")):
            refusal = _admin_refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    async def __acall__(self, request):
        if request.path.startswith(reverse("admin:index")):
            refusal = await sync_to_async(_admin_refusal)(request)
            if refusal is not None:
                return refusal
        return await self.get_response(request)
