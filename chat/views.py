"""Pages and the small JSON API the page uses; each view parses, calls one service or
selector (chat.conversations, chat.usage), and renders; no ORM here."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from chat import conversation_list as conversation_list_
from chat import conversations, feedback, search, sockets, tree, usage
from chat.errors import ChatError, InvalidInput, Unauthenticated
from chat.guards.json_limits import loads_limited
from chat.llm.chat_models import is_demo, model_name
from chat.protocol import usage_of
from chat.rendering import render_markdown
from chat.responses import error_response


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "chat/index.html",
        {
            "model_name": model_name(),
            "demo": is_demo(),
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "system_prompt_max_chars": settings.CHAT_SYSTEM_PROMPT_MAX_CHARS,
        },
    )


def _api_login_required(view):
    """JSON 401 instead of a login redirect, for the page's fetch calls."""

    async def wrapped(request, *args, **kwargs):
        user = await request.auser()
        if not user.is_authenticated:
            return error_response(Unauthenticated())
        request.user = user
        return await view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET"])
@_api_login_required
async def conversation_list(request: HttpRequest) -> JsonResponse:
    """A page of the list (`cursor`, `limit`, `archived`), or a search (`q`)."""
    params = request.GET
    try:
        if "q" in params:
            results = await search.conversation_search(
                user=request.user, query=params["q"]
            )
            return JsonResponse({"query": params["q"], "results": results})
        page = await conversation_list_.conversation_page(
            user=request.user,
            archived=params.get("archived") in ("1", "true"),
            cursor=params.get("cursor") or None,
            limit=_int(params.get("limit"), conversation_list_.PAGE_SIZE),
        )
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse({"conversations": page.conversations, "next": page.next})


def _int(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{value[:20]!r} is not a whole number.") from None


@require_http_methods(["GET", "PATCH", "DELETE"])
@_api_login_required
async def conversation_detail(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    try:
        conversation = await conversations.conversation_get(
            user=request.user, conversation_id=pk
        )
        if request.method == "PATCH":
            changes = conversation_list_.parse_changes(request.body)
            return JsonResponse(
                await conversation_list_.conversation_update(
                    conversation=conversation, changes=changes
                )
            )
    except ChatError as exc:
        return error_response(exc)
    if request.method == "DELETE":
        await conversations.conversation_delete(conversation=conversation)
        return JsonResponse({"deleted": str(pk)})
    path = await tree.apath_with_versions(conversation)
    roles = {m.id: m.role for m, _ in path}
    rated = await feedback.feedback_of(messages=[m for m, _ in path])
    messages = [
        {
            "id": str(m.id),
            "parent": str(m.parent_id) if m.parent_id else None,
            "versions": [str(v) for v in versions],
            "role": m.role,
            "content": m.content,
            "html": render_markdown(m.content) if m.role == "assistant" else None,
            "status": m.status,
            "usage": usage_of(m) if m.role == "assistant" else None,
            "cost": f"{m.cost:.8f}" if m.role == "assistant" else None,
            "model": m.model,
            "ttft_ms": m.ttft_ms,
            "continues": (
                str(m.parent_id)
                if roles.get(m.parent_id) == m.role == "assistant"
                else None
            ),
            "tools": m.tool_steps,
            "truncated": m.truncated,
            "created": m.created,
            "feedback": rated.get(m.id),
        }
        for m, versions in path
    ]
    return JsonResponse(
        {
            **conversation_list_.conversation_info(conversation),
            "settings": conversations.settings_of(conversation),
            "messages": messages,
        }
    )


@require_http_methods(["POST"])
@_api_login_required
async def active_branch(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """Show another version: the branch through `message` (to the newest leaf below
    it) becomes the conversation's active path, for every tab of the user."""
    try:
        data = loads_limited(
            request.body.decode(errors="replace") or "{}", max_bytes=1024, what="body"
        )
        try:
            message_id = uuid.UUID(str(data["message"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                'The body must be {"message": "<message id>"}.'
            ) from None
        leaf = await tree.version_show(
            user=request.user, conversation_id=pk, message_id=message_id
        )
    except ChatError as exc:
        return error_response(exc)
    frame = {
        "type": "branch",
        "conversation": str(pk),
        "message": str(message_id),
        "leaf": str(leaf.id),
    }
    await sockets.user_broadcast(request.user.pk, frame)
    return JsonResponse(frame)


@_api_login_required
async def usage_summary(request: HttpRequest) -> JsonResponse:
    return JsonResponse(await usage.usage_summary(user=request.user))


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})
