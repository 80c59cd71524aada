"""WEB_CONCURRENCY (bin/web, chatproject/supervisor.py): one dyno, one port, two
daphne processes. SIGTERM to the supervisor drains both; a process killed
mid-reply is replaced, and its reply ends `interrupted` through the other one;
the kernel spreads connections over both."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time

import pytest

from tests.deploy import client, processes
from tests.deploy.conftest import GRACE_SECONDS, dynos_running
from tests.deploy.test_scale_out import (
    CLOSE_RESTARTING,
    drained,
    quick_and_slow_in_flight,
    stored,
    tokens,
)
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(90, func_only=True),
]

PROCESSES = 2


def web_processes(dyno, count: int = PROCESSES, within: float = 20.0) -> list[int]:
    """The dyno's server processes, once there are `count` of them."""
    deadline = time.monotonic() + within
    while True:
        pids = processes.children(dyno.web_pid)
        if len(pids) == count or time.monotonic() > deadline:
            return pids
        time.sleep(0.1)


@contextlib.asynccontextmanager
async def socket_on(user: client.User, dyno, pid: int, tries: int = 9):
    """A chat socket of `user` served by process `pid` (the kernel picks the
    process by a hash of the client's port, so try a few ports)."""
    for _ in range(tries):
        async with user.socket(dyno) as ws:
            await client.hello(ws)
            if processes.holder_of(ws, dyno.port, [pid]) == pid:
                yield ws
                return
    raise AssertionError(f"no socket landed on process {pid} in {tries} tries")


async def sigterm_to_parent_drains(dyno, fake_llm, database, q_ws, s_ws) -> None:
    """Two replies in flight, then SIGTERM to the dyno's parent process alone: the
    quick reply completes, the slow one is stored `interrupted`, both sockets
    close 4012, and every process exits within the grace period and a little."""
    q_start, s_start = await quick_and_slow_in_flight(fake_llm, q_ws, s_ws)
    os.kill(dyno.web_pid, signal.SIGTERM)
    stopped_at = time.monotonic()
    q_end, q_code, s_end, s_code = await drained(q_ws, s_ws)

    assert q_end["status"] == "complete"
    assert s_end["status"] == "interrupted" and s_end["content"]
    assert q_code == s_code == CLOSE_RESTARTING
    assert dyno.wait_web_exit(timeout=10), dyno.log_tail()
    assert time.monotonic() - stopped_at < GRACE_SECONDS + 10
    assert stored(database, q_start["message"]) == ("complete", q_end["content"])
    assert stored(database, s_start["message"]) == ("interrupted", s_end["content"])


@pytest.fixture
def two_processes(slug, config, tmp_path):
    with dynos_running(slug, config, tmp_path, 1, WEB_CONCURRENCY=PROCESSES) as (dyno,):
        assert len(web_processes(dyno)) == PROCESSES, dyno.log_tail()
        yield dyno


async def test_sigterm_to_the_supervisor_drains_every_process(
    two_processes, fake_llm, new_user, database
):
    """SIGTERM to the supervisor alone (not the group) reaches both processes:
    a reply in flight on each, the quick one completes, the slow one is stored
    `interrupted`, both sockets close 4012, and every process exits."""
    dyno = two_processes
    first, second = web_processes(dyno)
    quick, slow = new_user(dyno), new_user(dyno)
    async with (
        socket_on(quick, dyno, first) as q_ws,
        socket_on(slow, dyno, second) as s_ws,
    ):
        await sigterm_to_parent_drains(dyno, fake_llm, database, q_ws, s_ws)
    log = dyno.log_path.read_text()
    assert log.count("SIGTERM: draining") == PROCESSES + 1  # each, and the supervisor


async def test_killed_process_is_replaced_and_its_reply_interrupted(
    two_processes, fake_llm, new_user, database
):
    """SIGKILL to the process generating a reply: a follower on the other process
    gets the end, `interrupted`, which is stored; the supervisor starts a new
    process on the same port, and it serves a turn."""
    dyno = two_processes
    victim, survivor = web_processes(dyno)
    user = new_user(dyno)
    fake_llm.enqueue(Reply(tokens=tokens("k", 600), delay=0.05))
    async with (
        socket_on(user, dyno, victim) as ws,
        socket_on(user, dyno, survivor) as follower,
    ):
        await client.send(ws, "Keep going.")
        start, _ = await client.until(ws, "start")
        await client.join(follower, start["message"])
        await client.until(follower, "delta")
        os.kill(victim, signal.SIGKILL)
        end, _ = await client.until(follower, "end", within=40)

    assert end["status"] == "interrupted"
    assert stored(database, start["message"])[0] == "interrupted"
    replaced = web_processes(dyno)
    assert len(replaced) == PROCESSES and victim not in replaced, replaced
    assert survivor in replaced
    (newcomer,) = set(replaced) - {survivor}
    fake_llm.enqueue(Reply(tokens=["Back", " again."]))
    # Another user: the killed reply's concurrency lease lapses only after
    # CHAT_LIMITS_LEASE_SECONDS.
    async with socket_on(new_user(dyno), dyno, newcomer) as ws:
        await client.send(ws, "Are you there?")
        text, end, _ = await client.reply(ws, within=30)
    assert text == "Back again." and end["status"] == "complete"
    assert "died (signal SIGKILL); starting another" in dyno.log_path.read_text()


async def test_connections_spread_over_the_processes(two_processes):
    """A burst of 200 connections (as after a deploy, every page reconnecting at
    once) is spread by the kernel over both processes, within 35-65%."""
    dyno = two_processes
    pids = web_processes(dyno)
    opened = []
    try:
        for _ in range(200):
            opened.append(socket.create_connection(("127.0.0.1", dyno.port)))
        await asyncio.sleep(1.0)  # each process accepts what it was given
        counts = processes.spread(dyno.port, pids)
    finally:
        for sock in opened:
            sock.close()
    assert sum(counts.values()) == 200, counts
    assert all(70 <= count <= 130 for count in counts.values()), counts
