"""Real daphne processes for the resilience tests, deployed as in production: DEBUG
off, PostgreSQL (a fresh database per test, cloned from a migrated template), real
Redis, and the scripted OpenAI server on loopback. Clients log in like a user and
talk plain HTTP and WebSocket to the processes.

Each process gets a listening socket made here and passed by file descriptor, so
a process killed with SIGKILL can be restarted on the same port while clients
keep their address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from tests.resilience.sse_client import Event, events_of
from tests.servers.deployment import (
    Database,
    kill_group,
    launch,
    log_tail,
    redis_url,
    stop_group,
    wait_healthy,
)

BASE_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
USERNAME, PASSWORD = "alice", "pw-alice-123!"
# Generous: starting imports Django, LangChain and the openai SDK (slow on a busy
# machine).
START_TIMEOUT = 40.0

# The environment a deployed process would see, and nothing from this one that
# changes its behaviour (the suite's SECRET_KEY and settings module are replaced).
_DROPPED = ("PYTEST_VERSION", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")
_PREFIXES = ("OPENAI_", "LLM_", "CHAT_", "DJANGO_")


def own_redis_url() -> str:
    """A Redis database other than the usual 0, chosen per deployment: socket
    counts, user groups and breaker state are keyed by user id and endpoint
    without a prefix, and every test database's first user has id 1."""
    return redis_url(random.randint(1, 15))


def server_env(
    database: Database, redis: str | None = None, **extra: object
) -> dict[str, str]:
    redis = redis or own_redis_url()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED and not k.startswith(_PREFIXES)
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.resilience.server_settings",
        PYTHONPATH=str(BASE_DIR),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # The tests speak plain HTTP, so cookies cannot be Secure-only.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        DATABASE_URL=database.url,
        REDIS_URL=redis,
        LOG_FORMAT="plain",
        LLM_BACKEND="openai",
        LLM_MODEL="gpt-4o-mini",
        OPENAI_API_KEY="test",
        CHAT_CHECKPOINT_SECONDS="0.2",
        # These tests count provider calls: a repeated question must reach it.
        CHAT_CACHE_BACKEND="off",
        # ...and read a reply's frames in order: no model-made title in between.
        CHAT_TITLES="0",
        CHAT_LIMITS_KEY_PREFIX=f"test:resilience:{uuid.uuid4().hex[:12]}",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """Run a management command as an operator would; its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def make_template() -> Database:
    """A migrated database with one user, cloned by each test."""
    template = Database("resil_tmpl").create()
    # One process for both: each start of Django costs seconds on a busy machine.
    manage(
        server_env(template),
        "shell",
        "-c",
        "from django.core.management import call_command; "
        "from django.contrib.auth import get_user_model; "
        "call_command('migrate', interactive=False, verbosity=0); "
        f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})",
    )
    return template


class Daphne:
    """One daphne process on a listening socket owned by the test."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log_dir / f"daphne-{name}.log"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def start(self, **extra: object) -> Daphne:
        """Start (or restart) serving; returns once /healthz answers."""
        env = {**self.env, **{k: str(v) for k, v in extra.items()}}
        fd = self.sock.fileno()
        self.process = launch(
            [str(BIN / "daphne"), "--fd", str(fd), "-v", "1"]
            + ["chatproject.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            log_path=self.log_path,
            pass_fds=(fd,),
        )
        wait_healthy(
            self.process,
            self.url,
            timeout=START_TIMEOUT,
            what=f"daphne {self.name}",
            log_path=self.log_path,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup code runs."""
        if self.process is not None and self.process.poll() is None:
            kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process, grace=2)

    def close(self) -> None:
        self.stop()
        self.sock.close()

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)


@dataclass
class Stack:
    """One test's deployment: a database, its processes, and the fake model."""

    database: Database
    base_url: str  # the fake OpenAI server
    log_dir: Path
    redis_url: str = field(default_factory=own_redis_url)
    processes: list[Daphne] = field(default_factory=list)
    # One namespace for every process of the deployment: the limits (the user's
    # reply slot, rate windows) must be shared, as in production.
    limits_prefix: str = field(
        default_factory=lambda: f"test:resilience:{uuid.uuid4().hex[:12]}"
    )

    def env(self, **extra: object) -> dict[str, str]:
        return server_env(
            self.database,
            self.redis_url,
            OPENAI_BASE_URL=self.base_url,
            CHAT_LIMITS_KEY_PREFIX=self.limits_prefix,
            **extra,
        )

    def new(self, **extra: object) -> Daphne:
        """A process, not started yet, with settings overridden by `extra`."""
        process = Daphne(str(len(self.processes) + 1), self.env(**extra), self.log_dir)
        self.processes.append(process)
        return process

    def daphne(self, **extra: object) -> Daphne:
        """A new process, started."""
        return self.new(**extra).start()

    async def start(self, *processes: Daphne) -> None:
        """Start processes in parallel (each start imports the whole stack)."""
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))

    def manage(self, *args: str, **extra: object) -> str:
        return manage(self.env(**extra), *args)

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Read the deployment's database directly, as an operator would."""
        return self.database.query(sql, *params)

    def logs(self) -> str:
        return "\n".join(
            f"--- daphne {p.name} ---\n{p.log_tail()}" for p in self.processes
        )

    def close(self) -> None:
        for process in self.processes:
            process.close()


@contextlib.contextmanager
def stack_for(template: Database, base_url: str, log_dir: Path) -> Iterator[Stack]:
    database = Database("resil").create(template=template.name)
    stack = Stack(database, base_url, log_dir)
    try:
        yield stack
    finally:
        stack.close()
        database.drop()


# --- clients ------------------------------------------------------------------


async def two_processes(stack: Stack, **extra: object):
    """Two processes of one deployment, started, each with a logged-in client."""
    a, b = stack.new(**extra), stack.new(**extra)
    await stack.start(a, b)
    return a, b, await logged_in(a), await logged_in(b)


async def logged_in(process: Daphne) -> httpx.AsyncClient:
    """An HTTP client with a session, logged in through the login form."""
    client = httpx.AsyncClient(base_url=process.url, timeout=30)
    await client.get("/accounts/login/")
    token = client.cookies["csrftoken"]
    response = await client.post(
        "/accounts/login/",
        data={
            "login": USERNAME,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302, response.text[:500]
    assert "sessionid" in client.cookies
    return client


def ws_connect(process: Daphne, client: httpx.AsyncClient):
    """A chat WebSocket with the client's session, from the site's own origin."""
    return websockets.connect(
        process.ws_url,
        origin=process.url,
        additional_headers={"Cookie": f"sessionid={client.cookies['sessionid']}"},
        open_timeout=10,
    )


async def recv(ws, wait: float = 15) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), wait))


async def hello(ws) -> dict:
    frame = await recv(ws)
    assert frame["type"] == "hello", frame
    return frame


async def until_end(ws, wait: float = 30) -> list[dict]:
    """Frames up to and including the reply's end frame."""
    frames = []
    while True:
        frames.append(await recv(ws, wait))
        if frames[-1]["type"] == "end":
            return frames


def send_frame(content: str, conversation: str | None = None) -> str:
    return json.dumps(
        {
            "type": "send",
            "id": str(uuid.uuid4()),
            "conversation": conversation,
            "content": content,
        }
    )


def text_of(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta")


async def sse_turn(client: httpx.AsyncClient, content: str) -> list[Event]:
    """One turn over the SSE endpoint, as `curl -N` with a cookie jar would."""
    async with client.stream(
        "POST",
        "/api/chat/stream",
        json={"id": str(uuid.uuid4()), "conversation": None, "content": content},
        headers={"X-CSRFToken": client.cookies["csrftoken"]},
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in events_of(response.aiter_bytes())]
