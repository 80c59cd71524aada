"""The OpenAI-compatible API: thin edges that authenticate the key, parse, call one
service and answer in OpenAI's shapes (docs/api.md)."""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from api import completions
from api.authentication import authenticate
from api.errors import ApiError, ModelNotFound, from_chat_error
from api.model_access import model_key_for, models_for
from chat.errors import ChatError, InternalError
from chat.observability import records

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
        except ChatError as exc:
            return from_chat_error(exc).response()
        except Exception as exc:
            log.exception("unexpected error in an API request")
            error = InternalError(detail=repr(exc))
            error.__cause__ = exc
            await records.error_record(
                error, user=getattr(request, "user", None), kind="api"
            )
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
        {
            "object": "list",
            "data": [_model(n) for n in await models_for(request.user)],
        }
    )


@require_GET
@api_view
async def model_detail(request: HttpRequest, model: str) -> JsonResponse:
    """GET /v1/models/<id>: one of them, or 404."""
    if await model_key_for(request.user, model) is None:
        raise ModelNotFound(f"The model '{model}' does not exist.", param="model")
    return JsonResponse(_model(model))


# Header asking to keep the request and reply as a conversation in the page.
STORE_HEADER = "X-Djchat-Store"


@require_POST
@api_view
async def chat_completions(request: HttpRequest) -> HttpResponse:
    """POST /v1/chat/completions, streaming or not, through the chat turn pipeline."""
    completion = completions.parse_request(_body(request))
    store = request.headers.get(STORE_HEADER, "").lower() in ("1", "true", "yes")
    started = await completions.completion_start(
        api_key=request.api_key, request=completion, store=store
    )
    if not completion.stream:
        return JsonResponse(await completions.completion_result(started))
    response = StreamingHttpResponse(
        completions.completion_stream(started, include_usage=completion.include_usage),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _body(request: HttpRequest) -> bytes:
    """The raw body, within CHAT_API_MAX_BODY_BYTES (413 beyond)."""
    limit = settings.CHAT_API_MAX_BODY_BYTES
    declared = request.headers.get("Content-Length", "")
    too_big = ApiError(
        f"The request body is larger than {limit:,} bytes.",
        status=413,
        code="request_too_large",
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > limit:
        raise too_big
    return body
