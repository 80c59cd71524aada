"""Scale out: two web dynos on two ports share PostgreSQL and Redis. A reply
generated on one is followed from the other exactly once, a stop from the other
cancels it, limits hold across both, and a dyno stopped mid-reply (SIGTERM, or
SIGKILL) never leaves a reply `streaming`."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
import websockets

from tests.deploy import client
from tests.deploy.conftest import GRACE_SECONDS
from tests.servers.fake_openai import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(60, func_only=True),
]

FINAL = {"complete", "interrupted"}
CLOSE_RESTARTING = 4012  # chat.protocol; daphne cannot send 1012
# chat.limits.admission.BUDGET_HELD: a budget held by a reply in flight.
BUDGET_HELD = "Your remaining budget is reserved for a reply in progress."


def tokens(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i} " for i in range(count)]


def stored(database, message_id: str) -> tuple[str, str]:
    """The reply's (status, content) in PostgreSQL."""
    rows = database.query(
        "SELECT status, content FROM chat_message WHERE id = %s", message_id
    )
    assert rows, f"no message {message_id}"
    return rows[0]


async def closed_with(ws, within: float = 10.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return ws.close_code


async def test_socket_on_other_dyno_joins_and_sees_the_reply_once(
    pair, fake_llm, new_user
):
    """A socket on B joins a reply generating on A mid-stream and receives every
    chunk exactly once, in order; a later join from any seq resumes exactly."""
    a, b = pair
    words = tokens("w", 40)
    fake_llm.enqueue(Reply(tokens=words, delay=0.05))
    user = new_user(a)
    async with client.sockets(user, a, b) as (on_a, on_b):
        await client.send(on_a, "Count to forty.")
        start, _ = await client.until(on_a, "start")
        first, _ = await client.until(on_a, "delta")
        await client.join(on_b, start["message"])
        text_b, end_b, deltas_b = await client.reply(on_b)
        rest_a, end_a, _ = await client.reply(on_a)

        # Resume from the middle, as a reload that had seen `seq` would.
        middle = deltas_b[len(deltas_b) // 2]
        seen = "".join(d["text"] for d in deltas_b[: len(deltas_b) // 2 + 1])
        await client.join(on_b, start["message"], after=middle["seq"])
        resumed, end_again, _ = await client.reply(on_b)

    expected = "".join(words)
    assert first["text"] + rest_a == expected
    assert text_b == expected
    seqs = [d["seq"] for d in deltas_b]
    # A delta per word, or more when the output filter's timer released a held
    # tail on its own.
    assert seqs == sorted(set(seqs)) and seqs[-1] >= len(words)
    assert end_a["status"] == end_b["status"] == "complete"
    assert end_a["content"] == end_b["content"] == expected
    assert seen + resumed == expected and end_again["status"] == "complete"
    assert fake_llm.request_count == 1  # one generation, however many followers


async def test_stop_from_other_dyno_cancels_generation(
    pair, fake_llm, new_user, database
):
    """A stop sent on B reaches the task generating on A (Redis pub/sub), which
    cancels the provider request and stores the reply `cancelled`."""
    a, b = pair
    fake_llm.enqueue(Reply(tokens=tokens("s", 400), delay=0.05))  # 20 s
    user = new_user(a)
    async with client.sockets(user, a, b) as (on_a, on_b):
        await client.send(on_a, "Talk for a long time.")
        start, _ = await client.until(on_a, "start")
        await client.until(on_a, "delta")
        stopped_at = time.monotonic()
        await on_b.send(json.dumps({"type": "stop", "message": start["message"]}))
        end, _ = await client.until(on_a, "end", within=10)

    assert end["status"] == "cancelled"
    assert time.monotonic() - stopped_at < 5
    assert await fake_llm.async_wait_for_disconnects(1, within=5)
    status, content = stored(database, start["message"])
    assert status == "cancelled" and content == end["content"]


async def test_limits_hold_across_dynos(pair, fake_llm, new_user):
    """One reply in flight per user and the rate limit (defaults: 1, 10/1m) count
    turns on both dynos together."""
    a, b = pair
    fake_llm.enqueue(Reply(tokens=tokens("c", 60), delay=0.05))
    user = new_user(a)
    async with client.sockets(user, a, b) as (on_a, on_b):
        await client.send(on_a, "A long one.")
        await client.until(on_a, "start")
        await client.send(on_b, "Meanwhile, on the other dyno.")
        refused, _ = await client.until(on_b, "error")
        assert refused["code"] == "busy", refused
        await client.reply(on_a)

        # Nine more turns alternate between the dynos; the eleventh is refused.
        for turn in range(9):
            ws = on_a if turn % 2 else on_b
            await client.send(ws, f"Turn {turn + 2}.")
            await client.reply(ws)
        await client.send(on_b, "One too many.")
        limited, _ = await client.until(on_b, "error")
    assert limited["code"] == "rate_limited", limited
    assert limited["retry_after"] > 0


def give_quota(database, user: client.User, **fields: object) -> None:
    """The user's Quota row, as an admin would fill it in (before the dynos have
    looked the user up, so no process has cached the defaults)."""
    columns = {
        "plan": "",
        "unlimited": False,
        "rate_limits": "",
        "max_concurrent_replies": None,
        "tokens_per_day": None,
        "tokens_per_month": None,
        "cost_per_day": None,
        "cost_per_month": None,
        "note": "scale-out test",
        **fields,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    database.query(
        f"INSERT INTO chat_quota (user_id, {names}, updated) "
        f"SELECT id, {marks}, now() FROM auth_user WHERE username = %s RETURNING id",
        *columns.values(),
        user.username,
    )


async def first_answers(sockets: list, content: str) -> list[dict]:
    """Send on every socket at once; each socket's first answer (start or error)."""
    await asyncio.gather(
        *(client.send(ws, f"{content} {i}") for i, ws in enumerate(sockets))
    )
    return list(await asyncio.gather(*(client.receive(ws) for ws in sockets)))


def seconds_to_midnight_utc() -> float:
    now = datetime.now(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return (midnight - now).total_seconds()


@pytest.mark.parametrize(
    ("budget", "usage"),
    [
        # A reply holds its input estimate (~100) plus the 512-token reply cap, so
        # 1000 tokens, or $0.0005 at gpt-4o-mini's prices, fit one and not two.
        ({"tokens_per_day": 1000}, (990, 10)),
        ({"cost_per_day": "0.0005"}, (3000, 10)),
    ],
    ids=["tokens", "cost"],
)
async def test_budget_holds_across_dynos(
    pair, fake_llm, new_user, database, budget, usage
):
    """Six sends at once, three on each dyno, from a user whose daily budget fits
    one reply (and nothing else limits them): one is admitted and reaches the
    provider; the rest are refused on the budget, `busy` while the reply holds it.
    Once it has settled (its usage spends the budget), sends on both dynos get
    `budget_exhausted` with the time until the reset."""
    a, b = pair
    user = new_user(a)
    give_quota(
        database, user, rate_limits="100/1m", max_concurrent_replies=10, **budget
    )
    # About three seconds: every other send arrives while the budget is held.
    fake_llm.enqueue(Reply(tokens=tokens("b", 60), delay=0.05, usage=usage))
    async with client.sockets(user, a, a, a, b, b, b) as sockets:
        answers = await first_answers(sockets, "Spend it")
        started = [i for i, frame in enumerate(answers) if frame["type"] == "start"]
        assert len(started) == 1, answers
        (winner,) = started
        refused = [frame for i, frame in enumerate(answers) if i != winner]
        assert {(f["type"], f["code"]) for f in refused} == {("error", "busy")}
        assert all(f["message"].startswith(BUDGET_HELD) for f in refused), refused
        _, end, _ = await client.reply(sockets[winner])
        assert end["status"] == "complete"

        answers = await first_answers(sockets, "And more")
        expected_wait = seconds_to_midnight_utc()
    assert fake_llm.request_count == 1
    assert {(f["type"], f["code"]) for f in answers} == {("error", "budget_exhausted")}
    for frame in answers:
        assert "resets at 00:00 UTC" in frame["message"], frame
        assert abs(frame["retry_after"] - expected_wait) < 5, frame


async def quick_and_slow_in_flight(fake_llm, q_ws, s_ws) -> tuple[dict, dict]:
    """Two replies streaming when the test stops the dyno: one ends within the
    grace period, the other outlasts it. Their start frames."""
    fake_llm.enqueue(
        Reply(tokens=tokens("q", 12), delay=0.1),  # about 1 s
        Reply(tokens=tokens("l", 600), delay=0.1),  # a minute: outlasts the grace
    )
    await client.send(q_ws, "Quick one.")
    q_start, _ = await client.until(q_ws, "start")
    await client.until(q_ws, "delta")
    await client.send(s_ws, "Slow one.")
    s_start, _ = await client.until(s_ws, "start")
    await client.until(s_ws, "delta")
    return q_start, s_start


async def drained(q_ws, s_ws) -> tuple[dict, int | None, dict, int | None]:
    """After SIGTERM: each socket's end frame and close code."""
    _, q_end, _ = await client.reply(q_ws, within=GRACE_SECONDS + 5)
    q_code = await closed_with(q_ws, within=GRACE_SECONDS + 10)
    s_end, _ = await client.until(s_ws, "end", within=GRACE_SECONDS + 10)
    s_code = await closed_with(s_ws)
    return q_end, q_code, s_end, s_code


async def test_sigterm_mid_reply_finishes_or_interrupts(
    pair, victim, fake_llm, new_user, database
):
    """SIGTERM to a dyno with two replies in flight: the one that ends within the
    grace period completes, the other is stored `interrupted`; sockets there get
    the end, then close 1012; a follower on the other dyno gets the same end; the
    process exits within the grace period plus a little."""
    _, survivor = pair
    quick, slow = new_user(victim), new_user(victim)
    async with (
        client.sockets(quick, victim) as (q_ws,),
        client.sockets(slow, victim, survivor) as (s_ws, follower),
    ):
        q_start, s_start = await quick_and_slow_in_flight(fake_llm, q_ws, s_ws)
        await client.join(follower, s_start["message"])
        await client.until(follower, "delta")

        victim.signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        q_end, q_code, s_end, s_code = await drained(q_ws, s_ws)
        f_end, _ = await client.until(follower, "end", within=15)

    assert q_end["status"] == "complete"
    assert s_end["status"] == "interrupted" and s_end["content"]
    assert f_end["status"] == "interrupted"
    assert q_code == s_code == CLOSE_RESTARTING
    assert victim.wait_web_exit(timeout=10)
    assert time.monotonic() - stopped_at < GRACE_SECONDS + 10
    assert stored(database, q_start["message"])[0] == "complete"
    assert stored(database, s_start["message"]) == ("interrupted", s_end["content"])


async def test_hard_kill_leaves_a_reply_the_sweep_interrupts(
    pair, victim, fake_llm, new_user, database, slug, config
):
    """SIGKILL mid-reply leaves the row `streaming` with its last checkpoint; the
    sweep (`manage.py sweep_replies`, also run by every release) stores it
    `interrupted` with all the text the reply's Redis stream holds (the checkpoint
    and what came after it) and bills it."""
    user = new_user(victim)
    fake_llm.enqueue(Reply(tokens=tokens("k", 600), delay=0.05))
    async with client.sockets(user, victim) as (ws,):
        await client.send(ws, "Keep going.")
        start, _ = await client.until(ws, "start")
        for _ in range(3):
            await client.until(ws, "delta")
        await asyncio.sleep(1)  # a checkpoint or two (CHAT_CHECKPOINT_SECONDS=0.3)
        victim.signal(signal.SIGKILL)
        assert victim.wait_web_exit(timeout=10)

    status, partial = stored(database, start["message"])
    assert status == "streaming" and partial  # what survives a crash
    await asyncio.sleep(1.5)
    out = slug.run("python manage.py sweep_replies --older-than 1", config)
    assert "interrupted" in out
    status, recovered = stored(database, start["message"])
    assert status == "interrupted"
    assert recovered.startswith(partial) and len(recovered) > len(partial)
    calls = database.query(
        "SELECT status, usage_estimated, output_tokens FROM chat_modelcall "
        "WHERE message_id = %s",
        start["message"],
    )
    assert len(calls) == 1 and calls[0][0] == "interrupted" and calls[0][2] > 0


async def test_hard_kill_follower_on_other_dyno_gets_the_end(
    pair, victim, fake_llm, new_user, database
):
    """A socket on B following a reply whose dyno was SIGKILLed is not left
    waiting: once the generator's heartbeat lapses (chat/delivery/redis.py,
    ALIVE_MS) it gets the stored end, `interrupted`, and a fresh join gets it too."""
    _, survivor = pair
    user = new_user(victim)
    fake_llm.enqueue(Reply(tokens=tokens("f", 600), delay=0.05))
    async with client.sockets(user, victim, survivor) as (ws, follower):
        await client.send(ws, "Keep going.")
        start, _ = await client.until(ws, "start")
        await client.join(follower, start["message"])
        await client.until(follower, "delta")
        victim.signal(signal.SIGKILL)
        end, _ = await client.until(follower, "end", within=35)
        await client.join(follower, start["message"])
        again, _ = await client.until(follower, "end", within=10)

    assert end["status"] == again["status"] == "interrupted"
    assert stored(database, start["message"])[0] in FINAL
