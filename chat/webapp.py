"""The installable web app: its manifest, its service worker and the offline screen.

The worker caches the page shell (styles, scripts, icons, the offline screen) and
answers a navigation it cannot fetch with the offline screen. It never caches API
responses, the chat page itself (it carries the user's name and CSRF token) or any
conversation content.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# Static files the shell needs offline (the chat page's modules and styles).
SHELL_FILES = (
    "chat/app.css",
    "chat/theme-init.js",
    "chat/icons/icon.svg",
    "chat/icons/icon-192.png",
)


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "djchat",
        "short_name": "djchat",
        "description": _("Chat with a language model."),
        "start_url": reverse("chat:index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#4f46e5",
        "icons": [
            {
                "src": static("chat/icons/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
            {
                "src": static("chat/icons/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": static("chat/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
            {
                "src": static("chat/icons/maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(data)
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker script, at the site's root so its scope is the whole site."""
    return render(
        request,
        "chat/sw.js",
        {
            "shell": [static(name) for name in SHELL_FILES],
            "offline_url": reverse("chat:offline"),
            "static_prefix": static(""),
        },
        content_type="text/javascript",
    )


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The screen shown when the network is gone; the same for everyone."""
    return render(request, "chat/offline.html")
