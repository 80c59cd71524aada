"""Blocking a user: no login and no new replies (an open socket checks is_active
before each turn), with the ledger and conversations kept."""

from __future__ import annotations

from django.db.models import QuerySet


def users_block(*, users: QuerySet, actor) -> list:
    """Make the active users among `users` inactive, never `actor` themself;
    returns the ids blocked."""
    ids = list(
        users.exclude(pk=actor.pk).filter(is_active=True).values_list("pk", flat=True)
    )
    users.model.objects.filter(pk__in=ids).update(is_active=False)
    return ids


def users_unblock(*, users: QuerySet) -> list:
    """Make the blocked users among `users` active again; returns their ids."""
    ids = list(users.filter(is_active=False).values_list("pk", flat=True))
    users.model.objects.filter(pk__in=ids).update(is_active=True)
    return ids
