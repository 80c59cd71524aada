"""A live deployment of the app for API clients: one daphne process on PostgreSQL
and real Redis, with the scripted OpenAI server as its model, and API keys made in
it by the app's own service."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.resilience import stack as deploy
from tests.servers.deployment import Database
from tests.servers.fake_openai import FakeOpenAI

# Users with a key each: one per behaviour, so limits of one test never touch
# another's.
USERS = ("sdk", "stream", "chain", "cached", "limited", "guarded")


@dataclass
class LiveApp:
    daphne: deploy.Daphne
    database: Database
    model: FakeOpenAI
    keys: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"{self.daphne.url}/v1"

    def ledger(self, key: str) -> list[dict]:
        """The ledger rows attributed to a key, as an operator would read them."""
        rows = self.database.query(
            "SELECT c.input_tokens, c.output_tokens, c.cache_hit, c.status, c.cost "
            "FROM chat_modelcall c JOIN api_apikey k ON k.id = c.api_key_id "
            "WHERE k.prefix = %s ORDER BY c.id",
            key.rsplit("_", 1)[0],
        )
        names = ("input_tokens", "output_tokens", "cache_hit", "status", "cost")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def wait_ledger(self, key: str, count: int, within: float = 15) -> list[dict]:
        deadline = time.monotonic() + within
        while len(rows := self.ledger(key)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} ledger rows expected, got {rows}")
            time.sleep(0.1)
        return rows


@contextlib.contextmanager
def live_app(template: Database, log_dir: Path) -> Iterator[LiveApp]:
    database = Database("api").create(template=template.name)
    model = FakeOpenAI().start()
    redis = os.environ.get("REDIS_URL") or deploy.own_redis_url()
    env = deploy.server_env(
        database,
        redis,
        OPENAI_BASE_URL=model.base_url,
        REDIS_KEY_PREFIX=f"test-api-{uuid.uuid4().hex[:8]}",
        CHAT_CACHE_BACKEND="redis",
        CHAT_RATE_LIMITS="4/1m",
        CHAT_MAX_CONCURRENT_REPLIES=2,
        CHAT_INJECTION_POLICY="block",
    )
    daphne = deploy.Daphne("api", env, log_dir)
    try:
        made = deploy.manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model\n"
            "from api.keys import key_create\n"
            f"for name in {USERS!r}:\n"
            "    user = get_user_model().objects.create_user(name)\n"
            "    print(name, key_create(user=user, name='live')[1])\n",
        )
        keys = dict(line.split(" ", 1) for line in made.splitlines() if line)
        yield LiveApp(daphne.start(), database, model, keys)
    finally:
        daphne.close()
        model.stop()
        database.drop()
