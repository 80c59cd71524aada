"""Share links: the owner's JSON endpoint (make, look at, revoke), the public
read-only page anyone with the link may open, and "continue this chat"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import sharing
from chat.catalogue.views import _body
from chat.errors import ChatError, NotFound
from chat.models import Share
from chat.rendering import render_markdown
from chat.responses import error_response
from chat.views import _api_login_required


def _share_json(share: Share | None) -> dict:
    if share is None:
        return {"shared": False}
    return {
        "shared": True,
        "created": share.created,
        "show_name": share.show_name,
        "messages": len(share.messages),
    }


@require_http_methods(["GET", "POST", "DELETE"])
@_api_login_required
async def conversation_share(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """POST: a new link to the conversation as it is now, `{"url": ...}`; GET:
    whether a link is live; DELETE: revoke it."""
    user = request.user
    try:
        if request.method == "POST":
            data = _body(request, ("show_name",))
            share, token = await sharing.share_create(
                user=user, conversation_id=pk, show_name=data.get("show_name") is True
            )
            url = request.build_absolute_uri(reverse("chat:share", args=[token]))
            return JsonResponse({"url": url, **_share_json(share)}, status=201)
        if request.method == "DELETE":
            revoked = await sharing.share_revoke(user=user, conversation_id=pk)
            return JsonResponse({"revoked": revoked})
        share = await sharing.share_live(user=user, conversation_id=pk)
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse(_share_json(share))


def _public(response: HttpResponse) -> HttpResponse:
    """Kept out of search engines, and the token out of Referer headers sent to
    other sites (same-origin, not no-referrer: a form POST must carry its Origin
    for the CSRF check)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _login_and_back(token: str) -> str:
    """The login page, coming back to the shared page after."""
    back = reverse("chat:share", args=[token])
    return f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': back})}"


def _gone(request: HttpRequest, error: NotFound) -> HttpResponse:
    return render(
        request, "chat/share_gone.html", {"error": error}, status=error.status
    )


@never_cache
@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """The shared conversation, read-only, for anyone with the link."""
    try:
        share = sharing.share_get(token)
    except NotFound as exc:
        return _public(_gone(request, exc))
    messages = [
        {
            **message,
            "html": mark_safe(render_markdown(message["content"]))  # noqa: S308
            if message["role"] == "assistant"
            else None,
        }
        for message in share.messages
    ]
    return _public(
        render(
            request,
            "chat/share.html",
            {
                "share": share,
                "messages": messages,
                "owner": share.user.get_username() if share.show_name else None,
                "continue_url": reverse("chat:share-continue", args=[token]),
                "login_url": _login_and_back(token),
            },
        )
    )


@require_POST
def share_continue(request: HttpRequest, token: str) -> HttpResponse:
    """Copy the shared conversation into the user's account and open it there."""
    if not request.user.is_authenticated:
        return redirect(_login_and_back(token))
    try:
        copy = sharing.share_continue(user=request.user, token=token)
    except NotFound as exc:
        return _public(_gone(request, exc))
    return redirect(f"{reverse('chat:index')}?{urlencode({'c': copy.id})}")
