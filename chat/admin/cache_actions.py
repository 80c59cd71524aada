"""Admin actions on the response cache (docs/cache.md):

- on Message: `purge_cached_replies` (the entry behind each selected reply, e.g. a
  wrong answer), `clear_cache_for_models`, `clear_cache_for_users`;
- on ModelCall and the user admin: `clear_cache_for_models` (ModelCall only),
  `clear_cache_for_users`;
- anywhere: `clear_whole_cache` (needs a row selected, as every admin action does).

Each needs `has_clear_llm_cache_permission` on its ModelAdmin: mix in
`LlmCacheAdminMixin` (superusers only). Actions run in the server process, so they
also clear an in-memory store.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from chat.cache.invalidation import cache_clear, reply_cache_key, reply_purge

PERMISSION = "clear_llm_cache"


class LlmCacheAdminMixin:
    """Grants the response-cache actions to superusers."""

    def has_clear_llm_cache_permission(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


def _done(modeladmin, request, removed: int, what: str) -> None:
    noun = "entry" if removed == 1 else "entries"
    modeladmin.message_user(
        request, f"Removed {removed} cached {noun} ({what}).", messages.SUCCESS
    )


@admin.action(
    description="Purge the cached entry behind selected replies",
    permissions=[PERMISSION],
)
def purge_cached_replies(modeladmin, request, queryset):
    rows = list(queryset)
    keyed = [row for row in rows if reply_cache_key(row)]
    removed = sum(1 for row in keyed if reply_purge(row))
    if not keyed:
        modeladmin.message_user(
            request,
            "None of the selected messages came from or went into the cache.",
            messages.WARNING,
        )
        return
    _done(modeladmin, request, removed, f"{len(keyed)} cached replies selected")


@admin.action(
    description="Clear cached replies of the selected rows' models",
    permissions=[PERMISSION],
)
def clear_cache_for_models(modeladmin, request, queryset):
    models = sorted({m for m in queryset.values_list("model", flat=True) if m})
    removed = sum(cache_clear(model=model) for model in models)
    _done(modeladmin, request, removed, "models: " + ", ".join(models or ["none"]))


@admin.action(
    description="Clear cached replies of the selected rows' users",
    permissions=[PERMISSION],
)
def clear_cache_for_users(modeladmin, request, queryset):
    user_ids = sorted(_user_ids(queryset))
    removed = sum(cache_clear(user_id=user_id) for user_id in user_ids)
    _done(modeladmin, request, removed, f"{len(user_ids)} users")


@admin.action(description="Clear the whole response cache", permissions=[PERMISSION])
def clear_whole_cache(modeladmin, request, queryset):
    _done(modeladmin, request, cache_clear(), "everything")


def _user_ids(queryset) -> set:
    """The users behind users, ledger rows (user) or messages (conversation.user)."""
    model = queryset.model
    if issubclass(model, get_user_model()):
        return set(queryset.values_list("pk", flat=True))
    field_names = {f.name for f in model._meta.get_fields()}
    path = "user" if "user" in field_names else "conversation__user"
    return {pk for pk in queryset.values_list(path, flat=True) if pk is not None}


CACHE_ACTIONS = [
    purge_cached_replies,
    clear_cache_for_models,
    clear_cache_for_users,
    clear_whole_cache,
]
