"""The one page allauth does not have: following an invitation link."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import signup


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        accepted = signup.invitation_accept(request, token)
    except signup.InvitationUnusable:
        return render(
            request,
            "account/invitation_invalid.html",
            {"reason": "This invitation has expired or has been used up."},
            status=410,
        )
    if accepted is None:
        return render(
            request,
            "account/invitation_invalid.html",
            {"reason": "This invitation link is not valid."},
            status=404,
        )
    return redirect("account_signup")
