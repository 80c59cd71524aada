"""Replies that survive their socket and their process: two daphne processes share
Redis and PostgreSQL; a reply generated on one is followed, stopped and recovered
from the other, and from a process that was killed."""

import asyncio
import json

import pytest
import websockets

from tests.resilience.sse_client import events_of
from tests.resilience.stack import (
    hello,
    logged_in,
    recv,
    send_frame,
    text_of,
    two_processes,
    until_end,
    ws_connect,
)
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(60, func_only=True),
]

TOKENS = [f"w{i} " for i in range(150)]
FULL = "".join(TOKENS)
SLOW = Reply(tokens=TOKENS, delay=0.02)


def join(message: str, after: int = 0) -> str:
    return json.dumps({"type": "join", "message": message, "after": after})


def deltas(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "delta"]


async def reply_row(stack, message: str) -> tuple[str, str]:
    rows = await asyncio.to_thread(
        stack.query, "select status, content from chat_message where id = %s", message
    )
    return rows[0]


async def test_socket_on_another_process_joins_mid_reply_and_gets_each_delta_once(
    stack, fake_openai
):
    fake_openai.default = SLOW
    a, b, on_a, on_b = await two_processes(stack)
    async with (
        ws_connect(a, on_a) as tab_a,
        ws_connect(b, on_b) as tab_b,
        ws_connect(b, on_b) as tab_b2,
    ):
        for tab in (tab_a, tab_b, tab_b2):
            await hello(tab)
        await tab_a.send(send_frame("Count to 150."))
        start = await recv(tab_a)
        first = await recv(tab_a)
        assert first["type"] == "delta"
        # One tab replays from the start, the other from what tab A has seen.
        await tab_b.send(join(start["message"]))
        await tab_b2.send(join(start["message"], after=first["seq"]))
        on_b_frames = await until_end(tab_b)
        on_b2_frames = await until_end(tab_b2)
        on_a_frames = [first, *await until_end(tab_a)]
    await on_a.aclose()
    await on_b.aclose()

    assert len(deltas(on_b_frames)) >= 2, "joined after the reply had ended"
    assert text_of(on_b_frames) == FULL
    assert text_of([first]) + text_of(on_b2_frames) == FULL
    assert text_of(on_a_frames) == FULL
    for frames in (on_a_frames, on_b_frames, on_b2_frames):
        seqs = [f["seq"] for f in deltas(frames)]
        assert seqs == sorted(set(seqs))
        assert frames[-1]["status"] == "complete" and frames[-1]["content"] == FULL
    assert fake_openai.request_count == 1
    assert await reply_row(stack, start["message"]) == ("complete", FULL)


async def test_reply_completes_after_the_socket_that_asked_disconnects(
    stack, fake_openai
):
    fake_openai.default = SLOW
    a, b, on_a, on_b = await two_processes(stack)
    async with ws_connect(a, on_a) as tab_a:
        await hello(tab_a)
        await tab_a.send(send_frame("Count to 150."))
        start = await recv(tab_a)
        assert (await recv(tab_a))["type"] == "delta"
    # Tab A is closed mid-reply; a tab on the other process follows it to the end.
    async with ws_connect(b, on_b) as tab_b:
        await hello(tab_b)
        await tab_b.send(join(start["message"]))
        frames = await until_end(tab_b)
    await on_a.aclose()
    await on_b.aclose()
    assert text_of(frames) == FULL and frames[-1]["status"] == "complete"
    assert fake_openai.disconnects == 0
    assert await reply_row(stack, start["message"]) == ("complete", FULL)


async def test_stop_from_a_tab_on_another_process_ends_the_upstream_request(
    stack, fake_openai
):
    fake_openai.default = Reply(tokens=[f"t{i} " for i in range(1000)], delay=0.02)
    a, b, on_a, on_b = await two_processes(stack)
    async with ws_connect(a, on_a) as tab_a, ws_connect(b, on_b) as tab_b:
        await hello(tab_a)
        await hello(tab_b)
        await tab_a.send(send_frame("Count to 1000."))
        start = await recv(tab_a)
        assert (await recv(tab_a))["type"] == "delta"
        await tab_b.send(json.dumps({"type": "stop", "message": start["message"]}))
        frames = await until_end(tab_a, wait=10)
    await on_a.aclose()
    await on_b.aclose()
    end = frames[-1]
    assert end["status"] == "cancelled"
    assert await fake_openai.async_wait_for_disconnects(1, within=5)
    status, content = await reply_row(stack, start["message"])
    assert status == "cancelled" and content == end["content"]
    assert content and len(content) < len("".join(f"t{i} " for i in range(1000)))


async def wait_for(predicate, within: float, every: float = 0.1):
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await predicate()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(every)


COUNT = Reply(tokens=[f"t{i} " for i in range(1000)], delay=0.02)
QUESTION = "Count to 1000, slowly."


async def crash_mid_reply(stack, fake_openai):
    """A process killed with SIGKILL while it streams a reply whose partial text
    was checkpointed; returns the process, a logged-in client, the reply's id and
    its checkpointed text."""
    fake_openai.default = COUNT
    server = stack.new(CHAT_CHECKPOINT_SECONDS=0.1)
    await stack.start(server)
    client = await logged_in(server)
    async with ws_connect(server, client) as tab:
        await hello(tab)
        await tab.send(send_frame(QUESTION))
        message = (await recv(tab))["message"]

        async def checkpointed():
            status, content = await reply_row(stack, message)
            return status == "streaming" and len(content) > 20

        assert await wait_for(checkpointed, within=10), "no checkpoint was saved"
        await asyncio.to_thread(server.kill)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await recv(tab)
    # The killed process's provider request died with it.
    assert await fake_openai.async_wait_for_disconnects(1, within=5)
    status, partial = await reply_row(stack, message)
    assert status == "streaming" and "".join(COUNT.tokens).startswith(partial)
    return server, client, message, partial


@pytest.mark.parametrize("sweep", ["restart", "command"])
async def test_reply_of_a_killed_process_ends_interrupted_with_its_streamed_text(
    stack, fake_openai, sweep
):
    server, client, message, partial = await crash_mid_reply(stack, fake_openai)
    if sweep == "command":
        out = await asyncio.to_thread(
            stack.manage, "sweep_replies", "--older-than", "0"
        )
        assert "Marked 1 " in out
    else:
        # The restarted process sweeps once a client connects (a reloaded page).
        await asyncio.to_thread(server.start, CHAT_STALE_STREAM_SECONDS=1)
        async with ws_connect(server, client) as tab:
            await hello(tab)

            async def swept():
                return (await reply_row(stack, message))[0] != "streaming"

            assert await wait_for(swept, within=15), stack.logs()
    await client.aclose()

    # At least the checkpoint: the reply's stream in Redis holds what was shown.
    status, content = await reply_row(stack, message)
    assert status == "interrupted" and content.startswith(partial)
    assert "".join(COUNT.tokens).startswith(content)
    rows = await asyncio.to_thread(
        stack.query,
        "select role, content, status from chat_message where id = %s"
        " or id = (select parent_id from chat_message where id = %s)",
        message,
        message,
    )
    assert ("user", QUESTION, "complete") in rows
    stuck = await asyncio.to_thread(
        stack.query, "select count(*) from chat_message where status = 'streaming'"
    )
    assert stuck == [(0,)]
    calls = await asyncio.to_thread(
        stack.query,
        "select status, output_tokens from chat_modelcall where message_id = %s",
        message,
    )
    assert len(calls) == 1 and calls[0][0] == "interrupted" and calls[0][1] > 0


async def test_following_a_reply_of_a_killed_process_ends_with_its_stored_text(
    stack, fake_openai
):
    server, client, message, partial = await crash_mid_reply(stack, fake_openai)
    await asyncio.to_thread(server.start)
    # Over SSE, with no sweep: joining finds the reply orphaned and ends it.
    async with client.stream(
        "GET", f"/api/chat/stream/{message}", headers={"Last-Event-ID": "3"}
    ) as response:
        assert response.status_code == 200
        events = [e async for e in events_of(response.aiter_bytes())]
    await client.aclose()
    assert events and events[-1].name == "end", events
    assert events[-1].data["status"] == "interrupted"
    status, content = await reply_row(stack, message)
    assert status == "interrupted" and content.startswith(partial)
    assert events[-1].data["content"] == content


async def test_a_socket_stays_open_through_a_reply_longer_than_five_seconds(
    stack, fake_openai
):
    fake_openai.default = Reply(tokens=[f"t{i} " for i in range(400)], delay=0.02)
    server = await asyncio.to_thread(stack.daphne)
    client = await logged_in(server)
    async with ws_connect(server, client) as tab:
        await hello(tab)
        await tab.send(send_frame("Count to 400."))
        frames = await until_end(tab)
    await client.aclose()
    assert frames[-1]["status"] == "complete"
    assert text_of(frames) == "".join(f"t{i} " for i in range(400))


async def test_a_dead_reply_is_recovered_whole_and_frees_its_owner_in_seconds(
    stack, fake_openai
):
    """No rejoin, no restart: the surviving process finds the dead reply by its
    missing heartbeat, stores the text its stream holds (not the last checkpoint,
    5 s old), bills it, and the owner's reply slot frees with its lease."""
    fake_openai.default = COUNT
    a, b, on_a, on_b = await two_processes(stack, CHAT_CHECKPOINT_SECONDS=5)
    # A page open on the other process (its first socket starts its sweeper).
    async with ws_connect(b, on_b) as other:
        await hello(other)
    async with ws_connect(a, on_a) as tab:
        await hello(tab)
        await tab.send(send_frame(QUESTION))
        message = (await recv(tab))["message"]
        shown = ""
        while len(shown) < 300:
            frame = await recv(tab)
            shown += frame.get("text", "")
        await asyncio.to_thread(a.kill)
    killed = asyncio.get_running_loop().time()
    status, checkpoint = await reply_row(stack, message)
    assert status == "streaming" and checkpoint == ""  # no checkpoint yet

    # The owner can send again on the other process once the dead reply's slot
    # lease lapses.
    fake_openai.default = Reply(tokens=("again",))
    async with ws_connect(b, on_b) as tab:
        await hello(tab)
        while True:
            await tab.send(send_frame("Again?"))
            frame = await recv(tab)
            if frame["type"] == "start":
                break
            assert frame.get("code") == "busy", frame
            await asyncio.sleep(0.5)
        freed_after = asyncio.get_running_loop().time() - killed
        assert text_of(await until_end(tab)) == "again"

    async def ended():
        return (await reply_row(stack, message))[0] != "streaming"

    assert await wait_for(ended, within=30), stack.logs()
    recovered_after = asyncio.get_running_loop().time() - killed
    status, content = await reply_row(stack, message)
    assert status == "interrupted"
    assert content.startswith(shown) and "".join(COUNT.tokens).startswith(content)
    calls = await asyncio.to_thread(
        stack.query,
        "select output_tokens, usage_estimated from chat_modelcall"
        " where message_id = %s",
        message,
    )
    assert calls[0][0] > 0 and calls[0][1] is False  # exact: o200k_base
    await on_a.aclose()
    await on_b.aclose()
    print(
        f"recovered after {recovered_after:.1f} s, slot free after {freed_after:.1f} s"
    )
    assert freed_after < 12  # CHAT_LIMITS_LEASE_SECONDS (10) and a margin
    assert recovered_after < 20
