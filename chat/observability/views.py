"""Operational endpoints: Prometheus metrics (a bearer token or a staff session)
and readiness (database, Redis, channel layer, model endpoint)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chat.observability.metrics import exposition
from chat.observability.readiness import readiness
from chat.observability.site_budget import refresh_site_metrics


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _may_read_metrics(request: HttpRequest) -> bool:
    expected = settings.CHAT_METRICS_TOKEN
    token = _bearer_token(request)
    if token:
        return bool(expected) and hmac.compare_digest(token, expected)
    user = await request.auser()
    return bool(user.is_active and user.is_staff)


@never_cache
@require_GET
async def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition of this process."""
    if not await _may_read_metrics(request):
        response = HttpResponse("Metrics need a bearer token or a staff login.\n")
        response.status_code = 401
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    await refresh_site_metrics()
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


@never_cache
@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every required dependency answers, 503 otherwise."""
    report = await readiness()
    return JsonResponse(report.as_json(), status=200 if report.ready else 503)
