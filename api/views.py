"""The OpenAI-compatible API: thin edges that authenticate the key, parse, call one
service and answer in OpenAI's shapes (docs/api.md)."""

from __future__ import annotations

import functools
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from api.authentication import authenticate
from api.errors import ApiError, ModelNotFound
from api.model_access import models_for

log = logging.getLogger("api")


def api_view(view):
    """Authenticate by key (no session, so no CSRF) and answer every refusal in
    OpenAI's error shape; `request.api_key` is the key, its user `request.user`."""

    @csrf_exempt
    @functools.wraps(view)
    async def wrapped(request: HttpRequest, *args, **kwargs):
        try:
            request.api_key = await authenticate(request)
            request.user = request.api_key.user
            return await view(request, *args, **kwargs)
        except ApiError as exc:
            return exc.response()
        except Exception:
            log.exception("unexpected error in an API request")
            return ApiError(
                "Something went wrong on our side. Please try again.",
                status=500,
                type="server_error",
                code="internal",
            ).response()

    return wrapped


def _model(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": "djchat"}


@require_GET
@api_view
async def models_list(request: HttpRequest) -> JsonResponse:
    """GET /v1/models: the models this key's user may use."""
    return JsonResponse(
        {"object": "list", "data": [_model(n) for n in models_for(request.user)]}
    )


@require_GET
@api_view
async def model_detail(request: HttpRequest, model: str) -> JsonResponse:
    """GET /v1/models/<id>: one of them, or 404."""
    if model not in models_for(request.user):
        raise ModelNotFound(f"The model '{model}' does not exist.", param="model")
    return JsonResponse(_model(model))
