"""The page's JSON endpoints for presets, custom instructions and a conversation's
settings. Session auth and CSRF (Django's middleware) as every other write."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from chat import protocol
from chat.catalogue import services
from chat.catalogue.selectors import models_for
from chat.conversations import settings_of
from chat.errors import ChatError, InvalidInput
from chat.responses import error_response
from chat.views import _api_login_required

_SETTINGS_FIELDS = ("model", "system_prompt", "temperature", "max_output_tokens")
_PRESET_FIELDS = (
    "name",
    "description",
    "model",
    "system_prompt",
    "temperature",
    "max_output_tokens",
    "shared",
)


def _body(request: HttpRequest, allowed: tuple[str, ...]) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidInput("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(f"Unknown field {unknown[0]!r}.")
    return data


def preset_json(preset, *, user) -> dict:
    return {
        "id": preset.pk,
        "name": preset.name,
        "description": preset.description,
        "model": preset.model_key or None,
        "system_prompt": preset.system_prompt,
        "temperature": preset.temperature,
        "max_output_tokens": preset.max_output_tokens,
        "shared": preset.shared,
        "mine": preset.owner_id == user.pk,
    }


@require_http_methods(["GET", "POST"])
@_api_login_required
async def presets(request: HttpRequest) -> JsonResponse:
    """GET: the presets this user may start from; POST: create one of their own."""
    try:
        if request.method == "POST":
            data = _body(request, _PRESET_FIELDS)
            preset = await services.preset_create(user=request.user, **data)
            return JsonResponse(preset_json(preset, user=request.user), status=201)
        rows = await services.presets_list(user=request.user)
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse({"presets": [preset_json(p, user=request.user) for p in rows]})


@require_http_methods(["GET", "PUT"])
@_api_login_required
async def instructions(request: HttpRequest) -> JsonResponse:
    """The user's custom instructions: GET them, PUT {"text": ...} ("" clears)."""
    try:
        if request.method == "PUT":
            data = _body(request, ("text",))
            text = await services.instructions_set(
                user=request.user, text=data.get("text")
            )
        else:
            text = await services.instructions_get(user=request.user)
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse({"text": text})


@require_http_methods(["PATCH"])
@_api_login_required
async def conversation_settings(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """Change a conversation's model, system prompt or generation settings (the
    fields given; null resets one to the model's default)."""
    try:
        data = _body(request, _SETTINGS_FIELDS)
        conversation = await services.conversation_settings_set(
            user=request.user, conversation_id=pk, **data
        )
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse(
        {"conversation": str(conversation.pk), **settings_of(conversation)}
    )


@require_http_methods(["GET"])
@_api_login_required
async def models(request: HttpRequest) -> JsonResponse:
    """The models this user may pick, as `hello` lists them: the page asks again
    when the catalogue may have changed (a model it does not know answered, or
    the local model may join while the demo is the default)."""
    rows, default = await models_for(request.user)
    key = default.key if default else ""
    return JsonResponse({"models": [protocol.model_info(e, default=key) for e in rows]})
