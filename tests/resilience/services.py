"""Private Redis and PostgreSQL servers for fault tests: started on free ports in a
temporary directory, so a test can pause, stop or restart them without touching the
machine's shared servers (or another test run's data)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.servers.deployment import free_port


def _wait(probe, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:g}s")


class PrivateRedis:
    """redis-server on a free loopback port, without persistence."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
            + ["--maxclients", "2000"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: self.client().ping(), f"redis-server on {self.port}")
        return self

    def stop(self) -> None:
        """Gone, as a crashed or restarting Redis: connections are refused."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self, seconds: float) -> None:
        """Every client's commands wait (CLIENT PAUSE ALL), as in a failover; even
        a new connection's handshake, so the pause simply runs out."""
        self.client().execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")

    def connected_clients(self) -> int:
        return int(self.client().info("clients")["connected_clients"]) - 1

    def clients_by_name(self) -> dict[str, int]:
        """Connected clients by CLIENT SETNAME (the app names its pools)."""
        counts: dict[str, int] = {}
        for client in self.client().client_list():
            name = client.get("name")
            if name:  # the app's; this test's own are unnamed
                counts[name] = counts.get(name, 0) + 1
        return counts


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb + pg_ctl) on a free loopback port,
    trust authentication, so a test may restart it. As root, the server runs as the
    `postgres` user (initdb refuses root), in a directory of its own under /tmp."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="djchat-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @staticmethod
    def available() -> bool:
        return bool(_pg_bin("initdb") and _pg_bin("pg_ctl"))

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> PrivatePostgres:
        subprocess.run(
            [*self._as, _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres"]
            + ["-A", "trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        return self.start()

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
            + list(args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c unix_socket_directories='' -c max_connections=200"
        )
        self._ctl("-o", options, "-w", "start")
        _wait(self._ready, f"PostgreSQL on {self.port}")
        return self

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in a managed restart."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _ready(self) -> bool:
        with psycopg.connect(self.admin_url, connect_timeout=2):
            return True

    def execute(self, statement: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)


class PrivateDatabase:
    """A database on a PrivatePostgres, shaped like tests.servers.deployment's."""

    def __init__(self, server: PrivatePostgres, name: str = "chaos") -> None:
        self.server = server
        self.name = name
        self.url = server.url(name)

    def create(self) -> PrivateDatabase:
        self.server.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def drop(self) -> None:
        """Gone with its server (PrivatePostgres.remove)."""
