"""Sends with one client id are checked and stored one at a time, in one process
(no Redis) and across processes (Redis)."""

import asyncio
import uuid

import pytest

from chat.send_locks import send_lock


async def overlapping(user_id: object, client_id: uuid.UUID) -> list[str]:
    """Two holders of the same lock: what each did, in order."""
    log: list[str] = []

    async def hold(name: str) -> None:
        async with send_lock(user_id=user_id, client_id=client_id):
            log.append(f"{name} in")
            await asyncio.sleep(0.2)
            log.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"))
    return log


async def test_one_send_at_a_time_per_client_id_in_process(settings):
    settings.REDIS_URL = ""
    log = await overlapping(1, uuid.uuid4())
    assert log in (
        ["a in", "a out", "b in", "b out"],
        ["b in", "b out", "a in", "a out"],
    )


@pytest.mark.redis
async def test_one_send_at_a_time_per_client_id_across_processes(live_redis):
    log = await overlapping(1, uuid.uuid4())
    assert log[1] == log[0].replace("in", "out"), log


async def test_other_client_ids_do_not_wait(settings):
    settings.REDIS_URL = ""
    started = asyncio.get_running_loop().time()
    await asyncio.gather(overlapping(1, uuid.uuid4()), overlapping(1, uuid.uuid4()))
    assert asyncio.get_running_loop().time() - started < 0.7
