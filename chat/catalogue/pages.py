"""The settings page: the user's custom instructions and their own presets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from chat.catalogue import services
from chat.catalogue.forms import InstructionsForm, PresetForm
from chat.catalogue.selectors import models_for
from chat.errors import ChatError


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
async def settings_page(request: HttpRequest) -> HttpResponse:
    """GET the page; POST `form=instructions` or `form=preset` to save one."""
    user = await request.auser()
    models, _ = await models_for(user)
    which = request.POST.get("form") if request.method == "POST" else None
    instructions = InstructionsForm(
        request.POST if which == "instructions" else None,
        initial={"text": await services.instructions_get(user=user)},
    )
    preset = PresetForm(request.POST if which == "preset" else None, models=models)
    saved = ""
    status = 200
    if which == "instructions" and instructions.is_valid():
        try:
            await services.instructions_set(
                user=user, text=instructions.cleaned_data["text"]
            )
            saved = "Your custom instructions are saved."
        except ChatError as exc:
            instructions.add_error("text", exc.message)
    elif which == "preset" and preset.is_valid():
        try:
            await services.preset_create(
                user=user,
                **{
                    **preset.cleaned_data,
                    "model": preset.cleaned_data["model"] or None,
                },
            )
            saved = f"The preset “{preset.cleaned_data['name']}” is saved."
            preset = PresetForm(models=models)
        except ChatError as exc:
            preset.add_error(None, exc.message)
    if which and not saved:
        status = 400
    presets = await services.presets_list(user=user)
    return TemplateResponse(
        request,
        "chat/settings.html",
        {
            "instructions_form": instructions,
            "preset_form": preset,
            "presets": presets,
            "user_id": user.pk,
            "saved": saved,
        },
        status=status,
    )


@login_required
@require_POST
async def preset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's own presets (anyone else's is a 404)."""
    try:
        await services.preset_delete(user=await request.auser(), preset_id=pk)
    except ChatError as exc:
        raise Http404(exc.message) from None
    return redirect("chat:settings")
