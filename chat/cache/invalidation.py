"""Invalidation: clear the whole namespace, one model's or one user's entries, or
the entry behind one reply. Sync, for the admin and the management command; store
errors propagate so the operator sees them.

Changing LLM_MODEL, a generation parameter or LLM_PROMPT_VERSION needs none of this:
those are in the key, so old entries simply stop matching and expire.
"""

from __future__ import annotations

from chat.cache.backends import get_backend
from chat.cache.keys import user_scope


def cache_clear(*, model: str | None = None, user_id: int | str | None = None) -> int:
    """Remove every entry, or those of a model and/or a user; returns how many.
    A user's entries are those in their own scope, not shared ones."""
    backend = get_backend()
    if backend is None:
        return 0
    scope = user_scope(user_id) if user_id is not None else None
    return backend.clear(model=model, scope=scope)


def reply_cache_key(message) -> str:
    """The cache key a reply was stored under or served from ("" if none)."""
    return getattr(message, "cache_key", "") or ""


def reply_purge(message) -> bool:
    """Remove the cached entry behind this reply; True if one was removed."""
    key = reply_cache_key(message)
    backend = get_backend()
    if not key or backend is None:
        return False
    return backend.delete(key)
