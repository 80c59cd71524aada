"""Fixtures for the response-cache tests: a store of each kind, a Redis namespace per
test, and a TCP proxy to Redis that a test can cut (the shared server never stops)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

import pytest
import redis

from chat import redis_client
from chat.cache import stats
from chat.cache.backends import get_backend, reset_backends
from tests.conftest import need_service

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def redis_reachable() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test starts with no store instances, zeroed counters, default policy."""
    settings.CHAT_CACHE_BACKEND = "memory"
    settings.CHAT_CACHE_TTL = 60
    settings.CHAT_CACHE_MAX_ENTRIES = 100
    settings.CHAT_CACHE_MAX_TEMPERATURE = 1.0
    settings.CHAT_CACHE_SCOPE = "user"
    settings.CHAT_CACHE_TIMEOUT = 0.5
    reset_backends()
    stats.reset_counters()
    yield
    reset_backends()
    stats.reset_counters()


@pytest.fixture
def redis_namespace(settings):
    """Redis as REDIS_URL with a namespace of this test's own, removed afterwards."""
    if not redis_reachable():
        need_service(f"Redis is not reachable at {REDIS_URL}")
    namespace = f"test:llmcache:{uuid.uuid4().hex[:10]}"
    settings.REDIS_URL = REDIS_URL
    settings.CHAT_CACHE_NAMESPACE = namespace
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    names = list(client.scan_iter(match=f"{namespace}:*"))
    if names:
        client.unlink(*names)
    client.close()


@pytest.fixture(autouse=True)
async def loop_clients():
    """Close the async Redis clients this test's loop opened (they die with it)."""
    yield
    await redis_client.close_clients()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, settings, tmp_path):
    """The configured store of each kind, selected through settings."""
    settings.CHAT_CACHE_BACKEND = request.param
    settings.CHAT_CACHE_SQLITE_PATH = str(tmp_path / "llm.sqlite3")
    if request.param == "redis":
        request.getfixturevalue("redis_namespace")
    return get_backend()


class RedisProxy:
    """Forwards a local port to Redis until `cut()` closes it and every connection,
    which is what clients see when the server goes away mid-test."""

    def __init__(self, target=("127.0.0.1", 6379)) -> None:
        self.target = target
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> RedisProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.update((writer, up_writer))

        async def pipe(src, dst):
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._writers:
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()
        await self.server.wait_closed()


@pytest.fixture
async def redis_proxy(redis_namespace, settings):
    proxy = await RedisProxy().start()
    settings.REDIS_URL = proxy.url
    yield proxy
    if proxy.server is not None and proxy.server.is_serving():
        await proxy.cut()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
