"""The pages and endpoints allauth does not have: following an invitation link,
and the user's preferences for the page."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import preferences as prefs
from accounts import signup
from chat.errors import ChatError, InvalidInput
from chat.responses import error_response
from chat.views import _api_login_required


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        accepted = signup.invitation_accept(request, token)
    except signup.InvitationUnusable:
        return render(
            request,
            "account/invitation_invalid.html",
            {"reason": _("This invitation has expired or has been used up.")},
            status=410,
        )
    if accepted is None:
        return render(
            request,
            "account/invitation_invalid.html",
            {"reason": _("This invitation link is not valid.")},
            status=404,
        )
    return redirect("account_signup")


@require_http_methods(["GET", "PUT"])
@_api_login_required
async def preferences(request: HttpRequest) -> JsonResponse:
    """GET the user's preferences; PUT {"theme": "light" | "dark" | "system"}."""
    try:
        if request.method == "PUT":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                raise InvalidInput("The body must be JSON.") from None
            if not isinstance(data, dict) or set(data) != {"theme"}:
                raise InvalidInput('The body must be {"theme": ...}.')
            await prefs.theme_set(user=request.user, theme=data["theme"])
        return JsonResponse(await prefs.preferences_get(user=request.user))
    except ChatError as exc:
        return error_response(exc)
