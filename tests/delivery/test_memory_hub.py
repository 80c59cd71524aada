"""The in-process hub's coalescing: a chunk after a quiet spell goes out at once,
chunks inside the window share a frame, and the reply's end is never held back.
The window is made long (300 ms) so the timings have a wide margin."""

import asyncio
import time

import pytest

from chat.delivery.memory import MemoryHub

WINDOW = 0.3


@pytest.fixture(autouse=True)
def _window(settings):
    settings.CHAT_COALESCE_MS = WINDOW * 1000


async def followed():
    """A hub with one open reply, and a follower recording (time, frame) pairs."""
    hub = MemoryHub()
    hub.open("r")
    frames: list = []

    async def follow():
        async for frame in hub.follow("r"):
            frames.append((time.monotonic(), frame))

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0)
    return hub, frames, follower


async def test_a_burst_shares_a_frame_and_the_end_is_not_held_back():
    hub, frames, follower = await followed()

    started = time.monotonic()
    hub.publish("r", "Hello")
    await asyncio.sleep(0.01)
    assert [f["text"] for _, f in frames] == ["Hello"]  # leading edge: at once
    assert frames[0][0] - started < WINDOW / 3

    for piece in (",", " world", "!"):
        hub.publish("r", piece)
        await asyncio.sleep(0)
    closed = time.monotonic()
    hub.close("r", {"type": "end", "message": "r", "status": "complete"})
    await asyncio.wait_for(follower, timeout=2)

    kinds = [f["type"] for _, f in frames]
    assert kinds == ["delta", "delta", "end"]
    assert frames[1][1]["text"] == ", world!" and frames[1][1]["seq"] == 4
    assert frames[2][1]["seq"] == 4
    # The end cut the window short instead of waiting out its 300 ms.
    assert frames[2][0] - closed < WINDOW / 3


async def test_text_inside_the_window_waits_for_it():
    hub, frames, follower = await followed()
    hub.publish("r", "a")
    await asyncio.sleep(0.01)
    sent = time.monotonic()
    hub.publish("r", "b")
    await asyncio.sleep(WINDOW / 3)
    assert len(frames) == 1  # "b" is held for the rest of the window
    await asyncio.sleep(WINDOW)
    assert [f["text"] for _, f in frames] == ["a", "b"]
    assert frames[1][0] - sent >= WINDOW / 2
    hub.close("r", {"type": "end", "message": "r", "status": "complete"})
    await asyncio.wait_for(follower, timeout=2)
