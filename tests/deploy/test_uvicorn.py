"""ASGI_SERVER=uvicorn (bin/web): the Procfile's web process is uvicorn itself, it
serves a chat turn end to end, and SIGTERM drains replies as under daphne: /readyz
turns new traffic away, a reply that ends within the grace period completes, the
other is stored `interrupted`, sockets close with 4012, and the process exits."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy import client
from tests.deploy.conftest import GRACE_SECONDS, dynos_running
from tests.deploy.test_procfile import secrets_stay_out_of_the_access_log
from tests.deploy.test_scale_out import (
    CLOSE_RESTARTING,
    drained,
    quick_and_slow_in_flight,
    stored,
)
from tests.deploy.test_web_concurrency import sigterm_to_parent_drains

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(60, func_only=True),
]


def web_cmdline(dyno) -> list[bytes]:
    return Path(f"/proc/{dyno.web_pid}/cmdline").read_bytes().split(b"\0")


async def readiness_after_sigterm(dyno, within: float = 3.0) -> tuple[int, str]:
    """/readyz once the drain has begun (the signal is handled a moment later)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            answer = await http.get(f"{dyno.url}/readyz")
            if answer.status_code != 200 or time.monotonic() > deadline:
                return answer.status_code, answer.json()["status"]
            await asyncio.sleep(0.05)


@pytest.fixture
def uvicorn_dyno(slug, config, tmp_path):
    with dynos_running(slug, config, tmp_path, 1, ASGI_SERVER="uvicorn") as (dyno,):
        yield dyno


async def test_uvicorn_serves_a_turn_and_drains_on_sigterm(
    uvicorn_dyno, fake_llm, new_user, database
):
    dyno = uvicorn_dyno
    cmdline = web_cmdline(dyno)
    assert Path(cmdline[1].decode()).name == "uvicorn", cmdline  # exec'd, no shell
    assert b"--proxy-headers" in cmdline and b"65536" in cmdline

    quick, slow = new_user(dyno), new_user(dyno)
    async with (
        client.sockets(quick, dyno) as (q_ws,),
        client.sockets(slow, dyno) as (s_ws,),
    ):
        q_start, s_start = await quick_and_slow_in_flight(fake_llm, q_ws, s_ws)

        dyno.signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        # uvicorn keeps accepting while the app drains: readiness turns traffic away.
        assert await readiness_after_sigterm(dyno) == (503, "draining")
        q_end, q_code, s_end, s_code = await drained(q_ws, s_ws)

    assert q_end["status"] == "complete"
    assert s_end["status"] == "interrupted" and s_end["content"]
    assert q_code == s_code == CLOSE_RESTARTING
    assert dyno.wait_web_exit(timeout=10)
    assert time.monotonic() - stopped_at < GRACE_SECONDS + 10
    assert stored(database, q_start["message"]) == ("complete", q_end["content"])
    assert stored(database, s_start["message"]) == ("interrupted", s_end["content"])


@pytest.fixture
def uvicorn_workers(slug, config, tmp_path):
    with dynos_running(
        slug, config, tmp_path, 1, ASGI_SERVER="uvicorn", WEB_CONCURRENCY=2
    ) as (dyno,):
        yield dyno


async def test_uvicorn_workers_drain_on_sigterm_to_the_parent(
    uvicorn_workers, fake_llm, new_user, database
):
    """WEB_CONCURRENCY=2 under uvicorn is its own --workers; SIGTERM to the
    parent alone reaches every worker, and each drains its replies."""
    dyno = uvicorn_workers
    cmdline = web_cmdline(dyno)
    assert b"--workers" in cmdline and cmdline[cmdline.index(b"--workers") + 1] == b"2"

    quick, slow = new_user(dyno), new_user(dyno)
    async with (
        client.sockets(quick, dyno) as (q_ws,),
        client.sockets(slow, dyno) as (s_ws,),
    ):
        await sigterm_to_parent_drains(dyno, fake_llm, database, q_ws, s_ws)
    assert dyno.log_path.read_text().count("SIGTERM: draining") == 2


def test_uvicorns_access_log_keeps_secrets_in_urls_out(uvicorn_dyno):
    """uvicorn's access log goes through the app's handler too (settings.LOGGING)."""
    secrets_stay_out_of_the_access_log(uvicorn_dyno)
    log = uvicorn_dyno.log_path.read_text(errors="replace")
    assert '"logger": "uvicorn.access"' in log
