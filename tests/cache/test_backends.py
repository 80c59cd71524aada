"""Every store: miss then hit with the same text, expiry, bounds and invalidation by
namespace, model, user and key, through both its async and its sync side."""

import asyncio

import pytest

from chat.cache.backends import get_backend, reset_backends
from chat.cache.backends.memory import MemoryBackend
from chat.cache.backends.sqlite import SqliteBackend
from tests.cache.conftest import Clock

TEXT = "Sure — here is **Markdown**, unicode ✓ and\nnew lines.\n"


async def fill(store, *entries):
    for key, model, scope in entries:
        await store.aset(key, f"value of {key}", model=model, scope=scope, ttl=60)


async def test_miss_then_hit_returns_identical_text(store):
    assert await store.aget("k1") is None
    await store.aset("k1", TEXT, model="m", scope="user:1", ttl=60)
    assert await store.aget("k1") == TEXT


def test_sync_side_sees_what_the_async_side_stored(store):
    asyncio.run(store.aset("k1", TEXT, model="m", scope="user:1", ttl=60))
    assert store.get("k1") == TEXT
    store.set("k2", "two", model="m", scope="user:1", ttl=60)
    assert asyncio.run(store.aget("k2")) == "two"


async def test_overwrite_replaces_the_value(store):
    await store.aset("k", "old", model="m", scope="s", ttl=60)
    await store.aset("k", "new", model="m", scope="s", ttl=60)
    assert await store.aget("k") == "new"


async def test_delete_removes_one_entry(store):
    await fill(store, ("a", "m", "user:1"), ("b", "m", "user:1"))
    assert await store.adelete("a") is True
    assert await store.adelete("a") is False
    assert await store.aget("a") is None
    assert await store.aget("b") == "value of b"


async def test_clear_by_model_leaves_other_models(store):
    await fill(store, ("a", "m1", "user:1"), ("b", "m2", "user:1"), ("c", "m1", "s"))
    assert await store.aclear(model="m1") == 2
    assert [await store.aget(k) for k in "abc"] == [None, "value of b", None]


async def test_clear_by_scope_leaves_other_users(store):
    await fill(
        store, ("a", "m1", "user:1"), ("b", "m2", "user:1"), ("c", "m1", "user:2")
    )
    assert await store.aclear(scope="user:1") == 2
    assert [await store.aget(k) for k in "abc"] == [None, None, "value of c"]


async def test_clear_by_model_and_scope_takes_both(store):
    await fill(
        store, ("a", "m1", "user:1"), ("b", "m2", "user:1"), ("c", "m1", "user:2")
    )
    assert await store.aclear(model="m1", scope="user:1") == 1
    assert [await store.aget(k) for k in "abc"] == [None, "value of b", "value of c"]


async def test_clear_everything(store):
    await fill(store, ("a", "m1", "user:1"), ("b", "m2", "shared"))
    assert await store.aclear() == 2
    assert await store.aget("a") is None and await store.aget("b") is None


def test_sync_clear_by_model(store):
    asyncio.run(fill(store, ("a", "m1", "user:1"), ("b", "m2", "user:1")))
    assert store.clear(model="m1") == 1
    assert store.get("a") is None and store.get("b") == "value of b"


async def test_bound_on_entries_drops_old_ones(store, settings):
    settings.CHAT_CACHE_MAX_ENTRIES = 3
    reset_backends()
    store = get_backend()
    for key in "abcde":
        await store.aset(key, key, model="m", scope="s", ttl=60)
    kept = [k for k in "abcde" if await store.aget(k) is not None]
    assert kept == ["c", "d", "e"]


async def test_redis_entries_expire_with_a_tiny_ttl(settings, redis_namespace):
    settings.CHAT_CACHE_BACKEND = "redis"
    store = get_backend()
    await store.aset("k", TEXT, model="m", scope="s", ttl=0.05)
    assert await store.aget("k") == TEXT
    await asyncio.sleep(0.1)
    assert await store.aget("k") is None


async def test_redis_stays_inside_its_namespace(settings, redis_namespace):
    """Clearing everything never touches other keys in the same Redis database."""
    from chat.redis_client import get_redis

    settings.CHAT_CACHE_BACKEND = "redis"
    store = get_backend()
    neighbour = f"{redis_namespace}-neighbour"
    client = get_redis()
    await client.set(neighbour, "keep", px=5000)
    await store.aset("k", "v", model="m", scope="s", ttl=60)
    assert await store.aclear() == 1
    assert await client.get(neighbour) == b"keep"
    await client.delete(neighbour)


def test_memory_entries_expire_on_its_clock():
    clock = Clock()
    store = MemoryBackend(max_entries=10, clock=clock)
    store.set("k", TEXT, model="m", scope="s", ttl=30)
    clock.advance(29.9)
    assert store.get("k") == TEXT
    clock.advance(0.2)
    assert store.get("k") is None
    assert len(store) == 0


def test_memory_is_least_recently_used_first_out():
    store = MemoryBackend(max_entries=2)
    store.set("a", "a", model="m", scope="s", ttl=60)
    store.set("b", "b", model="m", scope="s", ttl=60)
    store.get("a")
    store.set("c", "c", model="m", scope="s", ttl=60)
    assert (store.get("a"), store.get("b"), store.get("c")) == ("a", None, "c")


def test_zero_ttl_means_no_expiry():
    clock = Clock()
    store = MemoryBackend(max_entries=10, clock=clock)
    store.set("k", "v", model="m", scope="s", ttl=0)
    clock.advance(10**9)
    assert store.get("k") == "v"


def test_sqlite_entries_expire_on_its_clock(tmp_path):
    clock = Clock()
    store = SqliteBackend(path=tmp_path / "c.sqlite3", max_entries=10, clock=clock)
    store.set("k", TEXT, model="m", scope="s", ttl=30)
    store.set("forever", "v", model="m", scope="s", ttl=0)
    clock.advance(31)
    assert store.get("k") is None
    assert store.get("forever") == "v"
    store.close()


def test_sqlite_is_least_recently_used_first_out(tmp_path):
    clock = Clock()
    store = SqliteBackend(path=tmp_path / "c.sqlite3", max_entries=2, clock=clock)
    for key in "ab":
        clock.advance(1)
        store.set(key, key, model="m", scope="s", ttl=60)
    clock.advance(1)
    store.get("a")
    clock.advance(1)
    store.set("c", "c", model="m", scope="s", ttl=60)
    assert (store.get("a"), store.get("b"), store.get("c")) == ("a", None, "c")
    store.close()


def test_sqlite_survives_a_restart(tmp_path):
    path = tmp_path / "c.sqlite3"
    first = SqliteBackend(path=path, max_entries=10)
    first.set("k", TEXT, model="m", scope="s", ttl=60)
    first.close()
    assert SqliteBackend(path=path, max_entries=10).get("k") == TEXT


@pytest.mark.parametrize("name", ["off", "bogus"])
def test_off_or_unknown_backend_is_no_cache(settings, name):
    settings.CHAT_CACHE_BACKEND = name
    assert get_backend() is None


def test_default_is_memory_without_redis_and_redis_with_it(settings):
    settings.CHAT_CACHE_BACKEND = ""
    settings.REDIS_URL = ""
    assert get_backend().name == "memory"
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert get_backend().name == "redis"


def test_redis_without_redis_url_is_no_cache(settings):
    settings.CHAT_CACHE_BACKEND = "redis"
    settings.REDIS_URL = ""
    assert get_backend() is None


def test_one_memory_store_per_process(settings):
    assert get_backend() is get_backend()


@pytest.mark.parametrize(
    ("changes", "ids"),
    [
        ({}, []),
        ({"CHAT_CACHE_BACKEND": "disk"}, ["chat.E151"]),
        ({"CHAT_CACHE_BACKEND": "redis", "REDIS_URL": ""}, ["chat.E152"]),
        ({"CHAT_CACHE_SCOPE": "team"}, ["chat.E153"]),
        ({"CHAT_CACHE_TTL": -1}, ["chat.E154"]),
    ],
)
def test_system_check_names_bad_settings(settings, changes, ids):
    from chat.cache.checks import check_cache_settings

    for name, value in changes.items():
        setattr(settings, name, value)
    assert [error.id for error in check_cache_settings()] == ids
