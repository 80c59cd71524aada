"""Chaos: traffic through two processes while Redis is paused (CLIENT PAUSE) and
while PostgreSQL restarts, on servers of the test's own. Each client behaves as the
page does (docs/protocol.md): it resends a refused send with the same id, and after
a dropped socket rejoins its reply with `after` = the last chunk it has. Asserted:
0 lost messages, 0 wrong statuses, every chunk exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass

import pytest
import websockets

from tests.conftest import need_service
from tests.resilience import stack as deploy
from tests.resilience.services import PrivateDatabase, PrivatePostgres, PrivateRedis
from tests.resilience.stack import hello, logged_in, recv, ws_connect
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(240, func_only=True),
]

TOKENS = [f"c{i} " for i in range(30)]
FULL = "".join(TOKENS)
AGENTS_PER_PROCESS = 3


@dataclass
class Outcome:
    message: str
    status: str
    text: str
    content: str
    repeated_chunks: int


@pytest.fixture
def servers(tmp_path):
    if not PrivatePostgres.available() or not PrivateRedis.available():
        need_service("initdb/pg_ctl or redis-server are not installed")
    postgres = PrivatePostgres().init()
    redis = PrivateRedis(tmp_path).start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.remove()


async def reliable_turn(process, client, content: str) -> Outcome:
    """One message, sent and followed to its end through any fault, as the page."""
    frame = {"type": "send", "id": str(uuid.uuid4()), "conversation": None}
    frame["content"] = content
    message, seq, text, repeated = None, 0, "", 0
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
            async with ws_connect(process, client) as ws:
                await hello(ws)
                if message is None:
                    await ws.send(json.dumps(frame))
                else:
                    await ws.send(
                        json.dumps({"type": "join", "message": message, "after": seq})
                    )
                while True:
                    got = await recv(ws, wait=40)
                    kind = got["type"]
                    if kind == "start":
                        message = got["message"]
                    elif kind == "delta":
                        if got["seq"] <= seq:
                            repeated += 1
                        else:
                            text += got["text"]
                            seq = got["seq"]
                    elif kind == "end":
                        return Outcome(
                            message, got["status"], text, got["content"], repeated
                        )
                    elif kind == "error" and got.get("code") in (
                        "busy",
                        "internal",
                        "rate_limited",
                    ):
                        break  # refused, or following failed: again, as the page
        await asyncio.sleep(0.5)
    raise AssertionError(f"no end for {message or frame['id']} in 150 s")


async def agent(process, client, outcomes: list[Outcome], until: float) -> None:
    number = 0
    while time.monotonic() < until:
        number += 1
        outcomes.append(await reliable_turn(process, client, f"Say it {number}."))


async def test_no_lost_message_while_redis_pauses_and_postgres_restarts(
    fake_openai, servers, tmp_path
):
    postgres, redis = servers
    fake_openai.default = Reply(tokens=TOKENS, delay=0.05)
    database = PrivateDatabase(postgres).create()
    stack = deploy.Stack(database, fake_openai.base_url, tmp_path, redis.url)
    extra = {
        "CHAT_RATE_LIMITS": "10000/1m",
        "CHAT_MAX_CONCURRENT_REPLIES": 10,
        "CHAT_CHECKPOINT_SECONDS": 0.5,
    }
    deploy.manage(
        stack.env(),
        "shell",
        "-c",
        "from django.core.management import call_command; "
        "from django.contrib.auth import get_user_model; "
        "call_command('migrate', interactive=False, verbosity=0); "
        f"get_user_model().objects.create_user({deploy.USERNAME!r}, "
        f"password={deploy.PASSWORD!r})",
    )
    try:
        a, b = stack.new(**extra), stack.new(**extra)
        await stack.start(a, b)
        clients = {a.name: await logged_in(a), b.name: await logged_in(b)}
        outcomes: list[Outcome] = []
        until = time.monotonic() + 30
        agents = [
            asyncio.create_task(agent(p, clients[p.name], outcomes, until))
            for p in (a, b)
            for _ in range(AGENTS_PER_PROCESS)
        ]
        await asyncio.sleep(5)
        redis.pause(6)  # every command waits 6 s (past client timeouts), mid-reply
        await asyncio.sleep(11)
        await asyncio.to_thread(postgres.stop)  # connections cut mid-reply
        await asyncio.sleep(4)
        await asyncio.to_thread(postgres.start)
        await asyncio.gather(*agents)
        for client in clients.values():
            await client.aclose()
        rows = await asyncio.to_thread(
            database.query,
            "select id::text, status, content from chat_message "
            "where role = 'assistant'",
        )
    finally:
        logs = stack.logs()
        stack.close()
    stored = {row[0]: row[1:] for row in rows}
    print(f"chaos: {len(outcomes)} turns, {len(stored)} replies stored")
    assert len(outcomes) >= 20, logs[-3000:]
    wrong = [
        o for o in outcomes if (o.status, o.text, o.content) != ("complete", FULL, FULL)
    ]
    assert not wrong, (wrong[:5], logs[-3000:])
    assert sum(o.repeated_chunks for o in outcomes) == 0
    assert len(stored) == len(outcomes)  # one reply per message, no extra turn
    lost = [o for o in outcomes if stored.get(o.message) != ("complete", FULL)]
    assert not lost, (
        [(o.message, stored.get(o.message)) for o in lost[:5]],
        logs[-3000:],
    )
