"""The same send (one client id) arriving at two processes at the same instant: one
turn, and both sockets get its `start`, never `busy` (nor an `end` before the reply
has begun)."""

import asyncio
import json
import uuid

import psycopg
import pytest

from tests.resilience.stack import (
    hello,
    recv,
    text_of,
    two_processes,
    until_end,
    ws_connect,
)
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(120, func_only=True),
]

RACES = 8
TOKENS = [f"t{i} " for i in range(5)]


async def test_a_resend_racing_on_two_processes_gets_the_same_start(stack, fake_openai):
    fake_openai.default = Reply(tokens=TOKENS, delay=0.02)
    a, b, on_a, on_b = await two_processes(stack, CHAT_RATE_LIMITS="1000/1m")
    async with ws_connect(a, on_a) as tab_a, ws_connect(b, on_b) as tab_b:
        await hello(tab_a)
        await hello(tab_b)
        for race in range(RACES):
            frame = json.dumps(
                {
                    "type": "send",
                    "id": str(uuid.uuid4()),
                    "conversation": None,
                    "content": "Count to twenty.",
                }
            )
            async with await psycopg.AsyncConnection.connect(stack.database.url) as db:
                if race % 2:
                    # Every other race: the first send's store waits (a slow
                    # database), widening the gap between its admission (which
                    # holds the user's reply slot) and its row.
                    await db.execute("LOCK TABLE chat_message IN EXCLUSIVE MODE")
                await asyncio.gather(tab_a.send(frame), tab_b.send(frame))
                await asyncio.sleep(0.5)
            first_a, first_b = await asyncio.gather(recv(tab_a), recv(tab_b))
            assert first_a["type"] == "start", first_a
            assert first_b["type"] == "start", first_b
            assert first_a["message"] == first_b["message"]
            ends = await asyncio.gather(until_end(tab_a), until_end(tab_b))
            for frames in ends:
                assert frames[-1]["status"] == "complete", frames
                assert text_of(frames) == "".join(TOKENS)
    await on_a.aclose()
    await on_b.aclose()
    rows = await asyncio.to_thread(
        stack.query,
        "select count(*), count(distinct client_id) from chat_message "
        "where role = 'user'",
    )
    assert rows == [(RACES, RACES)]
    assert fake_openai.request_count == RACES
