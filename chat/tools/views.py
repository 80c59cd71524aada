"""The page's endpoints for tools: a conversation's switches, and the files tools
made. Session auth and CSRF as every other write."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from chat.errors import ChatError, InvalidInput
from chat.responses import error_response
from chat.tools import services
from chat.views import _api_login_required


@require_http_methods(["GET", "PATCH"])
@_api_login_required
async def conversation_tools(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """GET: the tools offered in the conversation, each on or off; PATCH
    {"off": [names]}: switch those off and the others on."""
    try:
        if request.method == "PATCH":
            try:
                data = json.loads(request.body or b"{}")
            except ValueError:
                raise InvalidInput("The body must be JSON.") from None
            if not isinstance(data, dict) or set(data) != {"off"}:
                raise InvalidInput('The body must be {"off": [tool names]}.')
            tools = await services.conversation_tools_set(
                user=request.user, conversation_id=pk, off=data["off"]
            )
        else:
            tools = await services.conversation_tools(
                user=request.user, conversation_id=pk
            )
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse({"conversation": str(pk), "tools": tools})


@require_http_methods(["GET"])
@_api_login_required
async def artefact(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A PNG a tool made, as a download that no browser renders as a page."""
    try:
        row = await services.artefact_get(user=request.user, artefact_id=pk)
    except ChatError as exc:
        return error_response(exc)
    response = HttpResponse(bytes(row.data), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{row.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
