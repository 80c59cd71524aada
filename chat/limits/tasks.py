"""Bookkeeping that must finish even when the turn that started it is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

# Strong references: the loop keeps only weak ones to running tasks.
_running: set[asyncio.Task] = set()


def keep(task: asyncio.Task) -> asyncio.Task:
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def finish_anyway(coro: Coroutine) -> None:
    """Run `coro` to the end even if the caller is cancelled meanwhile (the
    cancellation still reaches the caller)."""
    await asyncio.shield(keep(asyncio.ensure_future(coro)))
