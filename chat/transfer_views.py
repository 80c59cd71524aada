"""Export and import: one conversation as Markdown or JSON, all of them as a zip,
an import file through the API or the "Your data" settings page."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import conversations
from chat.errors import ChatError, InvalidInput, TooLong
from chat.responses import error_response
from chat.transfer import exports, imports
from chat.upload_limit import body_limit
from chat.views import _api_login_required

_FORMATS = {
    "md": ("text/markdown; charset=utf-8", exports.export_markdown),
    "json": ("application/json; charset=utf-8", exports.export_json),
}


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@_api_login_required
async def conversation_export(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """`?format=md` (the branch shown, readable) or `?format=json` (the whole tree)."""
    kind = request.GET.get("format", "json")
    try:
        if kind not in _FORMATS:
            raise InvalidInput('The format must be "md" or "json".')
        conversation = await conversations.conversation_get(
            user=request.user, conversation_id=pk
        )
    except ChatError as exc:
        return error_response(exc)
    content_type, render_export = _FORMATS[kind]
    text = await sync_to_async(render_export)(conversation)
    response = HttpResponse(text, content_type=content_type)
    return _attachment(response, exports.filename(conversation, kind))


@require_GET
@_api_login_required
async def export_all(request: HttpRequest) -> HttpResponse:
    """Every conversation of the user as a zip: conversations.json and Markdown."""
    archive = await sync_to_async(exports.export_all)(user=request.user)
    name = f"djchat-export-{timezone.localdate():%Y-%m-%d}.zip"
    return _attachment(
        FileResponse(archive, content_type="application/zip", as_attachment=True),
        name,
    )


def _upload(request: HttpRequest) -> bytes:
    """The import file: a multipart `file` field or the raw JSON body, within
    CHAT_IMPORT_MAX_BYTES (chat.upload_limit refuses larger bodies earlier)."""
    limit = settings.CHAT_IMPORT_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > body_limit():
        raise TooLong(f"The file is larger than {limit:,} bytes.")
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput("Choose a file to import.")
        if upload.size > limit:
            raise TooLong(f"The file is larger than {limit:,} bytes.")
        return upload.read()
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise TooLong(f"The file is larger than {limit:,} bytes.")
    if not raw:
        raise InvalidInput("Send the file as the body or as the form field 'file'.")
    return raw


def _import(request: HttpRequest, user) -> list:
    return imports.import_file(user=user, raw=_upload(request))


@require_POST
@_api_login_required
async def conversation_import(request: HttpRequest) -> JsonResponse:
    """Import our JSON export or ChatGPT's conversations.json: 201 with what was
    made, or a clear error and nothing stored."""
    try:
        made = await sync_to_async(_import)(request, request.user)
    except ChatError as exc:
        return error_response(exc)
    return JsonResponse(
        {
            "imported": [
                {"id": str(c.id), "title": c.title, "url": f"/?c={c.id}"} for c in made
            ]
        },
        status=201,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def data_settings(request: HttpRequest) -> HttpResponse:
    """The "Your data" page: export everything, import a file."""
    status = 200
    if request.method == "POST":
        try:
            made = _import(request, request.user)
        except ChatError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(
                request,
                f"Imported {len(made)} conversation{'s' if len(made) != 1 else ''}.",
            )
            return redirect("chat:data-settings")
    return render(
        request,
        "chat/data_settings.html",
        {"max_bytes": settings.CHAT_IMPORT_MAX_BYTES},
        status=status,
    )
