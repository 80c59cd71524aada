"""What a Procfile platform does before it starts a web process: build a copy of the
app (the slug) with its static files collected, read the Procfile, and give the
processes only their config vars. The platform's own services are stood in for by
loopback PostgreSQL and Redis.

The slug is a copy of the working tree (tracked and untracked files, minus what
.gitignore excludes, like `git push` would send once committed), so collectstatic
writes into the copy and other work in the tree is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _pg_admin_url() -> str:
    """Where to create databases: DEPLOY_PG_ADMIN_URL, else DATABASE_URL's server
    (as CI sets it, with its password), else loopback with trust auth."""
    if os.environ.get("DEPLOY_PG_ADMIN_URL"):
        return os.environ["DEPLOY_PG_ADMIN_URL"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(url)._replace(path="/postgres"))
    return "postgresql://postgres@127.0.0.1:5432/postgres"


PG_ADMIN_URL = _pg_admin_url()
# A Redis database of its own: user ids restart at 1 in every fresh PostgreSQL
# database, so per-user keys (sockets, limits) must not meet other suites' keys.
REDIS_DB = int(os.environ.get("DEPLOY_REDIS_DB", "12"))
BUILD_TIMEOUT = 120.0


def redis_url() -> str:
    """The platform's Redis: REDIS_URL's server (or loopback), database REDIS_DB."""
    base = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(base._replace(path=f"/{REDIS_DB}"))


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_flush() -> None:
    """Start from an empty Redis database, as a fresh add-on would."""
    redis.Redis.from_url(redis_url()).flushdb()


class Database:
    """A fresh PostgreSQL database standing in for the platform's add-on."""

    def __init__(self) -> None:
        self.name = f"deploy_{uuid.uuid4().hex[:12]}"
        self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"

    def create(self) -> Database:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    def drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def _admin(self, statement: str) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(statement)


def procfile(path: Path) -> dict[str, str]:
    """Process types and their commands, as a platform reads the Procfile."""
    types = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            types[name.strip()] = command.strip()
    return types


def config_vars(database_url: str, openai_base_url: str, **extra: object) -> dict:
    """Production settings, as `heroku config:set` would give them."""
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "OPENAI_BASE_URL": openai_base_url,
        "OPENAI_API_KEY": "test",
        "LLM_MODEL": "gpt-4o-mini",
    }
    env.update({name: str(value) for name, value in extra.items()})
    return env


def process_env(config: dict[str, str]) -> dict[str, str]:
    """What a dyno sees: its config vars and a PATH to the built app, nothing of
    this test run (pytest's marker would let the development key through)."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    # The Python buildpack sets this, so logs reach the platform at once.
    env["PYTHONUNBUFFERED"] = "1"
    env.update(config)
    return env


class Slug:
    """A copy of the app in `root`, as the platform's build receives it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def copy(cls, root: Path) -> Slug:
        """The app's files: tracked and untracked, minus what .gitignore names."""
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        for name in filter(None, (item.decode() for item in listed)):
            source = REPO / name
            if source.is_file():  # tracked files being deleted are skipped
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return cls(root)

    @property
    def processes(self) -> dict[str, str]:
        return procfile(self.root / "Procfile")

    def deploy(self, config: dict[str, str]) -> None:
        """The build step (collectstatic, as the Python buildpack runs it) and the
        Procfile's release phase. A platform runs them one after the other; they
        touch different things (files, the database), so here they overlap, which
        halves the wait on a busy machine."""
        steps = ["python manage.py collectstatic --noinput", self.processes["release"]]
        started = [(command, self.start(command, config)) for command in steps]
        for command, process in started:
            self.finish(command, process)

    def run(self, command: str, config: dict[str, str], **extra: str) -> str:
        """A one-off command in the slug (`heroku run`); its output."""
        return self.finish(command, self.start(command, config, **extra))

    def start(
        self, command: str, config: dict[str, str], **extra: str
    ) -> subprocess.Popen:
        env = process_env({**config, **extra})
        process = subprocess.Popen(
            ["sh", "-c", command],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return process

    def finish(self, command: str, process: subprocess.Popen) -> str:
        """Its output once it exits; an error with its output if it fails."""
        try:
            out, err = process.communicate(timeout=BUILD_TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process.returncode:
            raise RuntimeError(
                f"`{command}` failed ({process.returncode}):\n{out}\n{err}"
            )
        return out

    def manifest(self) -> dict[str, str]:
        """Static file names and their hashed names, from the build."""
        data = json.loads((self.root / "staticfiles" / "staticfiles.json").read_text())
        return data["paths"]
