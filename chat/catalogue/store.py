"""The catalogue in memory, in every process, reloaded when any process changes it.

Each process keeps the entries it loaded and the version they had. Saving an entry
bumps the version (after the transaction commits): in Redis when it is configured,
so every process sees it; without Redis (one process, the embedded default) the
version is read from the catalogue tables themselves. A turn checks the version
once (one Redis GET, or one small aggregate) and reloads only when it moved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from chat.catalogue.entries import Entry, entry_from_row, environment_entry
from chat.llm.registry import ModelSpec
from chat.redis_client import get_redis, redis_enabled, redis_key

log = logging.getLogger("chat.catalogue")


@dataclass(frozen=True)
class Catalogue:
    """Every entry, enabled or not, in display order."""

    entries: tuple[Entry, ...] = ()
    by_key: dict[str, Entry] = field(default_factory=dict)

    def get(self, key: str) -> Entry | None:
        return self.by_key.get(key)

    def default(self) -> Entry:
        """The entry new conversations use: the one marked default (enabled), else
        the first enabled environment entry, else the settings' own model."""
        for entry in self.entries:
            if entry.enabled and entry.is_default:
                return entry
        for entry in self.entries:
            if entry.enabled and entry.from_environment:
                return entry
        return environment_entry()


@dataclass
class _Loaded:
    version: object = None
    catalogue: Catalogue = field(default_factory=Catalogue)


_loaded = _Loaded()
_sync_clients: dict[str, redis.Redis] = {}


def _version_key() -> str:
    return redis_key("catalogue", "version")


def _load_rows() -> Catalogue:
    from chat.models import CatalogueEntry, CatalogueFallback

    rows = list(CatalogueEntry.objects.prefetch_related("groups"))
    links: dict[int, list[str]] = {}
    for link in CatalogueFallback.objects.select_related("fallback").order_by(
        "position", "id"
    ):
        links.setdefault(link.entry_id, []).append(link.fallback.key)
    entries = []
    for row in rows:
        try:
            entries.append(
                entry_from_row(
                    row,
                    groups=frozenset(g.pk for g in row.groups.all()),
                    fallbacks=tuple(links.get(row.pk, ())),
                )
            )
        except ValueError:
            # An environment entry whose LLM_MODEL is unknown: the system check
            # reports it (chat.E102); the rest of the catalogue still serves.
            log.warning("catalogue entry %s cannot be resolved", row.key)
    return Catalogue(tuple(entries), {e.key: e for e in entries})


def _db_version() -> tuple:
    from chat.models import CatalogueEntry, CatalogueFallback

    entries = CatalogueEntry.objects.aggregate(n=Count("id"), at=Max("updated"))
    return (entries["n"], entries["at"], CatalogueFallback.objects.count())


def _sync_redis() -> redis.Redis:
    url = settings.REDIS_URL
    client = _sync_clients.get(url)
    if client is None:
        options: dict = {"socket_connect_timeout": 2, "socket_timeout": 2}
        if url.startswith("rediss://"):
            options["ssl_cert_reqs"] = settings.REDIS_SSL_CERT_REQS
        client = _sync_clients[url] = redis.Redis.from_url(url, **options)
    return client


def _version_sync() -> object:
    if redis_enabled():
        try:
            return (_version_key(), _sync_redis().get(_version_key()))
        except redis.RedisError:
            log.warning("catalogue version unavailable in Redis", exc_info=True)
    return _db_version()


async def _version_async() -> object:
    if redis_enabled():
        try:
            return (_version_key(), await get_redis().get(_version_key()))
        except redis.RedisError:
            log.warning("catalogue version unavailable in Redis", exc_info=True)
    return await sync_to_async(_db_version)()


def catalogue_sync() -> Catalogue:
    """The current catalogue, reloaded first if any process changed it."""
    version = _version_sync()
    if version != _loaded.version:
        _loaded.catalogue, _loaded.version = _load_rows(), version
    return _loaded.catalogue


async def get_catalogue() -> Catalogue:
    """The current catalogue, from the event loop."""
    version = await _version_async()
    if version != _loaded.version:
        _loaded.catalogue = await sync_to_async(_load_rows)()
        _loaded.version = version
    return _loaded.catalogue


def catalogue_spec(name: str) -> ModelSpec | None:
    """The spec of a catalogue entry by key, or by the provider model name of an
    enabled entry, from the copy this process last loaded: no I/O here, since the
    registry is read on the event loop and per row of admin pages. Turns refresh
    the copy first (get_catalogue); catalogue_sync() does it off the loop."""
    catalogue = _loaded.catalogue
    entry = catalogue.get(name.strip())
    if entry is not None and not entry.from_environment:
        return entry.spec
    for entry in catalogue.entries:
        if entry.enabled and not entry.from_environment and entry.model == name:
            return entry.spec
    return None


def catalogue_changed() -> None:
    """Tell every process to reload: this one at once, the others (through Redis)
    once the change is committed."""
    _loaded.version = None
    transaction.on_commit(_bump)


def _bump() -> None:
    _loaded.version = None
    if redis_enabled():
        try:
            _sync_redis().incr(_version_key())
        except redis.RedisError:
            log.warning("catalogue change not announced in Redis", exc_info=True)
