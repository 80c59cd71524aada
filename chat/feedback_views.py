"""The page's endpoint for rating a reply (chat.feedback)."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from chat import feedback
from chat.catalogue.views import _body
from chat.errors import ChatError, InvalidInput
from chat.responses import error_response
from chat.views import _api_login_required


@require_POST
@_api_login_required
async def message_feedback(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """`{"rating": "up" | "down" | null, "comment": "..."}` on one of the user's
    replies; null takes the rating back."""
    try:
        data = _body(request, ("rating", "comment"))
        if "rating" not in data:
            raise InvalidInput('Say "rating": "up", "down" or null.')
        row = await feedback.feedback_set(
            user=request.user,
            message_id=pk,
            rating=data["rating"],
            comment=data.get("comment", ""),
        )
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse({"message": str(pk), "feedback": feedback.feedback_json(row)})
