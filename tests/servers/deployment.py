"""What tests that run the app as real web processes share: the PostgreSQL and
Redis those processes use, and the handling of the processes themselves (ports,
readiness, signals to their process group, logs).

tests/deploy starts the Procfile's `web` command under honcho in a built copy of
the app (tests/deploy/slug.py, dyno.py); tests/resilience starts daphne on a socket
it owns, so a killed process restarts on the same port (tests/resilience/stack.py).
Both build on this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis


def _pg_admin_url() -> str:
    """Where to create databases: TEST_PG_ADMIN_URL, else DATABASE_URL's server
    (as CI sets it, with its password), else loopback with trust auth."""
    for name in ("TEST_PG_ADMIN_URL", "DEPLOY_PG_ADMIN_URL", "RESILIENCE_PG_ADMIN_URL"):
        if os.environ.get(name):
            return os.environ[name]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(url)._replace(path="/postgres"))
    return "postgresql://postgres@127.0.0.1:5432/postgres"


PG_ADMIN_URL = _pg_admin_url()
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


# --- PostgreSQL -------------------------------------------------------------------


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


class Database:
    """A database of its own on the test PostgreSQL server, dropped afterwards."""

    def __init__(self, prefix: str = "web") -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"

    def create(self, template: str | None = None) -> Database:
        """An empty database, or a copy of `template` (much faster than migrating)."""
        clone = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{self.name}"{clone}')
        return self

    def drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Read (or write, with RETURNING) as an operator would."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    @staticmethod
    def _admin(statement: str) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(statement)


# --- Redis ------------------------------------------------------------------------


def redis_url(db: int) -> str:
    """REDIS_URL's server (or loopback), database `db`. Web processes key sockets,
    groups and breaker state by user id and endpoint, and user ids restart at 1 in
    every fresh database: each deployment wants a Redis database of its own."""
    return urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{db}"))


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_flush(url: str) -> None:
    """Start from an empty Redis database, as a fresh add-on would."""
    redis.Redis.from_url(url).flushdb()


# --- Processes --------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on now (for servers that need a number)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signal_group(pgid: int | None, number: int) -> None:
    """Signal a process group that may already be gone."""
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, number)


def launch(
    argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, **popen
) -> subprocess.Popen:
    """Start a server in a session (process group) of its own, logging to a file."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )


def wait_healthy(
    process: subprocess.Popen,
    url: str,
    *,
    timeout: float,
    what: str,
    log_path: Path,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Return once `url`/healthz answers 200; raise with the log's tail if the
    process exits or does not answer within `timeout`. `ready` runs before each
    probe (e.g. to read a pid from the log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log_tail(log_path)}")
        ready()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start:\n{log_tail(log_path)}")


def stop_group(process: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM a process's group, then SIGKILL it after `grace` seconds; reap."""
    if process is None or process.poll() is not None:
        return
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill_group(process)


def kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL a process's whole group (no cleanup code runs) and reap it."""
    if process is None:
        return
    signal_group(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def log_tail(path: Path, lines: int = 60) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
    return ""
