"""The settings page where people make, list and revoke their own API keys."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import ApiKeyForm
from api.keys import key_create, key_revoke
from api.models import ApiKey


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """List the user's keys; a POST makes one and shows it, this once."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["expires_in"]
            _, new_key = key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires=timezone.now() + timedelta(days=days) if days else None,
            )
            form = ApiKeyForm()
        else:
            status = 400
    keys = ApiKey.objects.filter(user=request.user)
    return render(
        request,
        "api/keys.html",
        {"form": form, "keys": keys, "new_key": new_key},
        status=status,
    )


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's keys (someone else's is a 404)."""
    key_revoke(key=get_object_or_404(ApiKey, pk=pk, user=request.user))
    return redirect("api:keys")
