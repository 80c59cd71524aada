"""A deploy on one machine: the app built like a Procfile platform builds it
(collectstatic), released (the Procfile's `release`), and served by the Procfile's
`web` command under honcho with production config vars: DEBUG off, a generated
SECRET_KEY, PostgreSQL, Redis and an OpenAI-compatible endpoint (the scripted
loopback server). Clients speak to it like a platform router would, with
`X-Forwarded-Proto: https`.

Every Django start costs seconds on a busy machine, so the build and release run
once per session and the dynos that no test stops are shared by a module; each
step has its own time limit, and the tests' limits count the test alone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import need_service
from tests.deploy.client import User
from tests.deploy.dyno import Dyno
from tests.deploy.slug import REDIS_URL, Slug, config_vars
from tests.servers.deployment import (
    Database,
    postgres_available,
    redis_available,
    redis_flush,
)
from tests.servers.fake_openai import FakeOpenAI, Reply

# Seconds a dyno may drain after SIGTERM (platforms allow about 30; tests, less).
GRACE_SECONDS = 4


@pytest.fixture(scope="session")
def llm() -> Iterator[FakeOpenAI]:
    """The model provider every dyno of the session talks to."""
    with FakeOpenAI(default=Reply(tokens=["Hello", " from", " the", " model."])) as srv:
        yield srv


@pytest.fixture
def fake_llm(llm: FakeOpenAI) -> FakeOpenAI:
    """The provider with a clean script for this test."""
    llm.reset()
    return llm


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    """The PostgreSQL add-on: a fresh database (and an empty Redis database)."""
    if not postgres_available():
        need_service("PostgreSQL is not reachable on 127.0.0.1:5432")
    if not redis_available(REDIS_URL):
        need_service(f"Redis is not reachable at {REDIS_URL}")
    redis_flush(REDIS_URL)
    db = Database("deploy").create()
    try:
        yield db
    finally:
        db.drop()
        redis_flush(REDIS_URL)


@pytest.fixture(scope="session")
def config(database: Database, llm: FakeOpenAI) -> dict[str, str]:
    """The app's config vars: production settings, nothing relaxed for the test."""
    return config_vars(
        database.url,
        llm.base_url,
        CHAT_CHECKPOINT_SECONDS="0.3",
        CHAT_SHUTDOWN_GRACE_SECONDS=GRACE_SECONDS,
        # One server process per dyno unless a test asks for more
        # (test_web_concurrency.py): each process boots Django.
        WEB_CONCURRENCY=1,
    )


@pytest.fixture(scope="session")
def slug(tmp_path_factory, config) -> Slug:
    """The app built and released, as docs/deploy.md says."""
    built = Slug.copy(tmp_path_factory.mktemp("slug"))
    for patch in filter(None, os.environ.get("DEPLOY_SLUG_PATCH", "").split(",")):
        # Try a change to the app before it lands: DEPLOY_SLUG_PATCH=a.diff,...
        subprocess.run(
            ["git", "apply", str(Path(patch).resolve())], cwd=built.root, check=True
        )
    built.deploy(config)
    return built


@contextlib.contextmanager
def dynos_running(
    slug: Slug, config: dict, log_dir: Path, count: int, **extra: object
) -> Iterator[list[Dyno]]:
    """`count` web dynos booted in parallel; every one is killed on the way out."""
    env = {**config, **{k: str(v) for k, v in extra.items()}}
    names = [uuid.uuid4().hex[:6] for _ in range(count)]
    dynos = [Dyno(slug, env, log_dir, name) for name in names]
    try:
        for dyno in dynos:
            dyno.launch()
        for dyno in dynos:
            dyno.wait_ready()
        yield dynos
    finally:
        stop_all(dynos)


def stop_all(dynos: list[Dyno], wait: float = 5.0) -> None:
    """SIGTERM every dyno at once, then SIGKILL whatever is left of any of them."""
    for dyno in dynos:
        dyno.terminate()
    deadline = time.monotonic() + wait
    for dyno in dynos:
        dyno.wait_stopped(max(deadline - time.monotonic(), 0))
    for dyno in dynos:
        dyno.kill()


@pytest.fixture(scope="module")
def pair(slug, config, tmp_path_factory) -> Iterator[tuple[Dyno, Dyno]]:
    """Two web dynos sharing PostgreSQL and Redis (`heroku ps:scale web=2`)."""
    log_dir = tmp_path_factory.mktemp("dynos")
    with dynos_running(slug, config, log_dir, 2) as (first, second):
        yield first, second


@pytest.fixture
def victim(slug, config, tmp_path) -> Iterator[Dyno]:
    """A web dyno of this test's own, which the test stops or kills."""
    with dynos_running(slug, config, tmp_path, 1) as (dyno,):
        yield dyno


@pytest.fixture
def new_user(database) -> Callable[[Dyno], User]:
    """A fresh account, logged in on `dyno`. Sign-up is closed in production, so
    the operator makes it (straight in the database, to spare a Django start)."""
    # The dynos' own hasher: the suite's settings use a fast one they do not know.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()

    def make(dyno: Dyno) -> User:
        name = f"user-{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(16)
        database.query(
            "INSERT INTO auth_user (username, password, email, first_name, "
            "last_name, is_staff, is_superuser, is_active, date_joined) "
            "VALUES (%s, %s, '', '', '', false, false, true, now()) RETURNING id",
            name,
            hasher.encode(password, hasher.salt()),
        )
        return User(name, password).login(dyno)

    return make
