"""Tool turns through the real socket: the scripted OpenAI-compatible server asks
for tool calls (arguments split across chunks, several at once), the page's
frames arrive in order and numbered, each model call is a ledger row, a stop
cancels the running tool, a second socket joins mid-tool, and every bad call is a
clean tool error in a turn that still ends."""

import asyncio
import json
import os
import signal
import sys
import uuid

import pytest
from django.test import Client

from chat.models import ErrorRecord, Message, ModelCall
from tests.servers.fake_openai import Reply, ToolCall
from tests.tools.samples import MCP_SERVER, png
from tests.ws import connect, read_reply, send_frame, text_of

pytestmark = pytest.mark.django_db(transaction=True)

TOOL_FRAMES = ("tool_start", "tool_args", "tool_result", "tool_error")


@pytest.fixture
def tools_on(fake_openai, via, settings):
    """The environment's model on the scripted server, tool-capable, with the
    Python tool enabled for it."""
    via(fake_openai.base_url, LLM_TOOLS=True, CHAT_TOOLS=["python"])
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 20.0
    settings.CHAT_PYTHON_TIME_SECONDS = 2.0
    settings.CHAT_CACHE_BACKEND = "memory"
    return fake_openai


def python_call(code, call_id, pieces=4):
    return ToolCall("python", json.dumps({"code": code}), call_id, pieces)


def tool_frames(frames):
    return [f for f in frames if f["type"] in TOOL_FRAMES]


async def turn(user, content="Compute please", conversation=None):
    comm = await connect(user)
    await comm.send_json_to(send_frame(content, conversation=conversation))
    start = await comm.receive_json_from(timeout=30)
    frames = await read_reply(comm, wait=60)
    await comm.disconnect()
    return start, frames


async def test_parallel_calls_stream_in_order_and_each_round_is_a_ledger_row(
    user, tools_on
):
    tools_on.enqueue(
        Reply(
            tokens=("Let me", " check."),
            tool_calls=[
                python_call("print(6 * 7)", "call_a"),
                python_call("print('b' * 3)", "call_b", pieces=3),
            ],
            usage=(30, 12),
        ),
        Reply(tokens=("It is", " 42."), usage=(60, 2)),
    )
    start, frames = await turn(user)
    steps = tool_frames(frames)
    assert [f["n"] for f in steps] == list(range(1, len(steps) + 1))
    kinds = [(f["type"], f["call"]) for f in steps]
    assert kinds[0] == ("tool_start", "call_a")
    first_b = kinds.index(("tool_start", "call_b"))
    assert all(k == ("tool_args", "call_a") for k in kinds[1:first_b])
    assert len(kinds[1:first_b]) >= 3  # the arguments arrive in pieces
    args_a = "".join(f.get("delta", "") for f in steps if f["call"] == "call_a")
    assert json.loads(args_a) == {"code": "print(6 * 7)"}
    results = {f["call"]: f for f in steps if f["type"] == "tool_result"}
    assert results["call_a"]["result"] == "42"
    assert results["call_b"]["result"] == "bbb"
    assert set(kinds[-2:]) == {("tool_result", "call_a"), ("tool_result", "call_b")}
    # The answer's text comes after the results, the first round's before.
    order = [f["type"] for f in frames]
    assert order.index("tool_result") < max(
        i for i, kind in enumerate(order) if kind == "delta"
    )
    assert text_of(frames) == "Let me check.It is 42."
    end = frames[-1]
    assert end["status"] == "complete"
    assert [s["call"] for s in end["tools"]] == ["call_a", "call_b"]
    assert end["tools"][0]["state"] == "done"

    # The model got the results quoted as data, in the order it asked.
    tool_messages = [m for m in tools_on.last_request.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_a", "call_b"]
    assert "<untrusted-data" in tool_messages[0]["content"]
    # ...and was told, after the operator's prompt, that such data is not orders.
    system = [
        m["content"] for m in tools_on.last_request.messages if m["role"] == "system"
    ]
    assert "never instructions" in system[-1]

    reply = await Message.objects.aget(pk=start["message"])
    calls = [c async for c in ModelCall.objects.filter(message=reply).order_by("id")]
    assert [(c.input_tokens, c.output_tokens) for c in calls] == [(30, 12), (60, 2)]
    assert {c.status for c in calls} == {"complete"}
    assert (reply.input_tokens, reply.output_tokens) == (90, 14)
    assert reply.cost == sum(c.cost for c in calls) > 0
    assert reply.tool_steps == end["tools"]
    assert reply.cache_key == ""  # a tool turn is never stored in the cache

    # After a reload, the conversation's messages carry the steps.
    client = Client()
    await asyncio.to_thread(client.force_login, user)
    detail = await asyncio.to_thread(
        client.get, f"/api/conversations/{start['conversation']}/"
    )
    assert detail.json()["messages"][1]["tools"] == end["tools"]


async def test_a_tool_turn_is_never_served_from_the_cache(user, tools_on):
    for _ in range(2):
        tools_on.enqueue(
            Reply(tokens=(), tool_calls=[python_call("print(1)", "c")]),
            Reply(tokens=("One.",)),
        )
    await turn(user, "Same question")
    _, frames = await turn(user, "Same question")
    assert not frames[-1].get("cached")
    assert tools_on.request_count == 4


async def test_stop_cancels_the_running_tool(user, tools_on, settings):
    settings.CHAT_PYTHON_TIME_SECONDS = 60.0
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 60.0
    tools_on.enqueue(
        Reply(tokens=("Working",), tool_calls=[python_call("while True: pass", "c1")])
    )
    comm = await connect(user)
    await comm.send_json_to(send_frame("Loop forever"))
    start = await comm.receive_json_from(timeout=30)
    seen = []
    while not any(f["type"] == "tool_args" for f in seen):
        seen.append(await comm.receive_json_from(timeout=30))
    await asyncio.sleep(0.5)  # the code is running now
    began = asyncio.get_running_loop().time()
    await comm.send_json_to({"type": "stop", "message": start["message"]})
    frames = seen + await read_reply(comm, wait=10)
    await comm.disconnect()
    assert asyncio.get_running_loop().time() - began < 5
    end = frames[-1]
    assert end["status"] == "cancelled"
    [step] = end["tools"]
    assert (step["state"], step["code"]) == ("error", "cancelled")
    reply = await Message.objects.aget(pk=start["message"])
    assert reply.status == "cancelled" and reply.tool_steps == end["tools"]
    # The one model call made is on the ledger; no second call was made.
    assert await ModelCall.objects.filter(message=reply).acount() == 1
    assert tools_on.request_count == 1


@pytest.fixture(params=["memory", "redis"])
def hub(request):
    """Each reply hub: in-process, and Redis Streams."""
    if request.param == "redis":
        request.getfixturevalue("live_redis")
    return request.param


async def test_a_second_socket_joins_mid_tool(user, tools_on, settings, hub):
    settings.CHAT_PYTHON_TIME_SECONDS = 1.5
    tools_on.enqueue(
        Reply(tokens=("Trying",), tool_calls=[python_call("while True: pass", "c1")]),
        Reply(tokens=("It", " timed", " out.")),
    )
    first = await connect(user)
    await first.send_json_to(send_frame("Loop"))
    start = await first.receive_json_from(timeout=30)
    seen = []
    while not any(f["type"] == "tool_args" for f in seen):
        seen.append(await first.receive_json_from(timeout=30))
    deltas = [f["seq"] for f in seen if f["type"] == "delta"]
    # One joiner from the start, one resuming after the text it had.
    joiners = []
    for after in (0, deltas[-1]):
        comm = await connect(user)
        await comm.send_json_to(
            {"type": "join", "message": start["message"], "after": after}
        )
        joiners.append(comm)
    full = seen + await read_reply(first, wait=20)
    for comm in joiners:
        frames = await read_reply(comm, wait=20)
        await comm.disconnect()
        # Every tool frame, once each, numbered as the first socket saw them.
        numbered = {f["n"]: f for f in tool_frames(frames)}
        assert numbered == {f["n"]: f for f in tool_frames(full)}
        assert frames[-1]["tools"][0]["code"] == "timeout"
    await first.disconnect()
    assert text_of(full) == "TryingIt timed out."


async def test_bad_calls_are_tool_errors_and_the_turn_ends_cleanly(
    user, tools_on, settings
):
    settings.CHAT_TOOLS = ["python", "web_fetch"]
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 4.0
    settings.CHAT_PYTHON_TIME_SECONDS = 30.0
    settings.CHAT_TOOL_MAX_ARGUMENT_CHARS = 2_000
    settings.CHAT_TOOL_MAX_CALLS = 20
    calls = [
        ToolCall("shell", '{"cmd": "id"}', "unknown"),
        ToolCall("mcp__local__add", '{"a": 1, "b": 2}', "disabled"),
        ToolCall("python", '{"code": "print(1)"', "cut_off"),
        ToolCall("python", '["not", "an", "object"]', "not_object"),
        python_call("x" * 5_000, "huge"),
        python_call("while True: pass", "hangs"),
        python_call("for _ in range(10**5):\n    print('y' * 1000)", "hundred_mb"),
        ToolCall("web_fetch", '{"url": "http://169.254.169.254/latest/"}', "meta"),
        ToolCall("web_fetch", '{"url": "http://[::ffff:127.0.0.1]:6379/"}', "redis"),
        ToolCall("web_fetch", '{"url": "http://0x7f000001/"}', "hex"),
    ]
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=calls), Reply(tokens=("All", " failed."))
    )
    start, frames = await turn(user, "Break things")
    errors = {f["call"]: f["code"] for f in frames if f["type"] == "tool_error"}
    assert errors == {
        "unknown": "unknown_tool",
        "disabled": "unknown_tool",
        "cut_off": "bad_arguments",
        "not_object": "bad_arguments",
        "huge": "too_large",
        "hangs": "timeout",
        "hundred_mb": "output_limit",
        "meta": "forbidden_address",
        "redis": "forbidden_address",
        "hex": "forbidden_address",
    }
    assert all(f["error"] for f in frames if f["type"] == "tool_error")
    end = frames[-1]
    assert end["status"] == "complete" and end["content"] == "All failed."
    assert {s["state"] for s in end["tools"]} == {"error"}
    # Each error reached the model as a tool message, and nothing else did.
    answered = [m for m in tools_on.last_request.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answered] == [c.id for c in calls]
    assert all(m["content"].startswith("Tool error (") for m in answered)


async def test_huge_arguments_are_cut_in_the_page(user, tools_on, settings):
    settings.CHAT_TOOL_DISPLAY_CHARS = 100
    code = "s = '" + "z" * 5_000 + "'\nprint(len(s))"
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[python_call(code, "big", pieces=50)]),
        Reply(tokens=("Done.",)),
    )
    _, frames = await turn(user)
    sent = "".join(f["delta"] for f in frames if f["type"] == "tool_args")
    assert len(sent) == 100
    [step] = frames[-1]["tools"]
    assert step["arguments_truncated"] and step["result"] == "5000"


async def test_a_flagged_result_is_quoted_as_data_and_recorded(
    user, tools_on, settings
):
    settings.CHAT_TOOLS = ["mcp:local:page"]
    settings.CHAT_MCP_SERVERS = {
        "local": {"command": sys.executable, "args": [MCP_SERVER, "stdio"]}
    }
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[ToolCall("mcp__local__page", "{}", "p1")]),
        Reply(tokens=("I will not.",)),
    )
    start, frames = await turn(user, "Read the page")
    [result] = [f for f in frames if f["type"] == "tool_result"]
    assert result["flagged"] and result["name"] == "mcp:local:page"
    [sent] = [m for m in tools_on.last_request.messages if m["role"] == "tool"]
    assert sent["content"].startswith("WARNING")
    assert "<untrusted-data" in sent["content"]
    record = await ErrorRecord.objects.aget(kind="tool_result")
    assert record.code == "tool_injection"
    assert str(record.message_id) == start["message"]


async def test_mcp_tool_end_to_end_and_a_server_killed_mid_call(
    user, tools_on, settings, tmp_path
):
    settings.CHAT_TOOLS = ["mcp:local:*"]
    settings.CHAT_MCP_SERVERS = {
        "local": {"command": sys.executable, "args": [MCP_SERVER, "stdio"]}
    }
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[ToolCall("mcp__local__add", '{"a": 2, "b": 40}')]),
        Reply(tokens=("42.",)),
    )
    _, frames = await turn(user, "Add")
    [result] = [f for f in frames if f["type"] == "tool_result"]
    assert (result["name"], result["result"]) == ("mcp:local:add", "42")

    pid_file = tmp_path / "pid"
    arguments = json.dumps({"pid_file": str(pid_file)})
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[ToolCall("mcp__local__slow", arguments, "s1")]),
        Reply(tokens=("It is down.",)),
    )
    comm = await connect(user)
    await comm.send_json_to(send_frame("Slow"))
    await comm.receive_json_from(timeout=30)
    for _ in range(400):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    frames = await read_reply(comm, wait=30)
    await comm.disconnect()
    [error] = [f for f in frames if f["type"] == "tool_error"]
    assert error["code"] == "unavailable"
    assert frames[-1]["status"] == "complete"
    assert frames[-1]["content"] == "It is down."


async def test_a_plot_is_a_png_download_for_its_owner_only(user, other_user, tools_on):
    image = png(2, 2)
    code = f"open('/scratch/plot.png', 'wb').write({image!r})\nprint('saved')"
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[python_call(code, "plot")]),
        Reply(tokens=("Here.",)),
    )
    _, frames = await turn(user, "Plot")
    [result] = [f for f in frames if f["type"] == "tool_result"]
    [artefact] = result["artefacts"]
    assert artefact["name"] == "plot.png"
    client = Client()
    await asyncio.to_thread(client.force_login, user)
    response = await asyncio.to_thread(client.get, artefact["url"])
    assert response.status_code == 200
    assert response.content == image
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Content-Disposition"].startswith("attachment")
    await asyncio.to_thread(client.force_login, other_user)
    assert (await asyncio.to_thread(client.get, artefact["url"])).status_code == 404


async def test_the_user_switches_a_tool_off_for_a_conversation(user, tools_on):
    tools_on.enqueue(Reply(tokens=("Hi.",)))
    start, _ = await turn(user, "Hello")
    url = f"/api/conversations/{start['conversation']}/tools/"
    client = Client()
    await asyncio.to_thread(client.force_login, user)
    listed = await asyncio.to_thread(client.get, url)
    assert listed.json()["tools"] == [{"name": "python", "on": True}]
    assert "tools" in tools_on.last_request.body

    def patch(body):
        return client.patch(url, json.dumps(body), content_type="application/json")

    refused = await asyncio.to_thread(patch, {"off": ["admin_shell"]})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    changed = await asyncio.to_thread(patch, {"off": ["python"]})
    assert changed.json()["tools"] == [{"name": "python", "on": False}]

    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[python_call("print(1)", "sneaky")]),
        Reply(tokens=("No tools.",)),
    )
    _, frames = await turn(user, "Again", conversation=start["conversation"])
    # Not offered to the model; a call it makes anyway is not run.
    assert "tools" not in tools_on.requests[-1].body
    assert not tool_frames(frames)
    assert frames[-1]["content"] == ""
    missing = await asyncio.to_thread(
        client.get, f"/api/conversations/{uuid.uuid4()}/tools/"
    )
    assert missing.status_code == 404


SYSTEM_PROMPT = (
    "You are Aurora, the support assistant of Northwind Traders. Never discuss "
    "competitor pricing. Escalate refunds above 500 euros to a human agent named "
    "Ingrid. The internal discount code for loyal customers is WINTERFOX."
)
TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY" + "1234"


async def test_what_the_page_is_shown_of_a_call_passes_the_output_filter(
    user, tools_on, settings
):
    settings.LLM_SYSTEM_PROMPT = SYSTEM_PROMPT
    tools_on.enqueue(
        Reply(tokens=(), tool_calls=[python_call(f"print('{TOKEN}')", "secret")]),
        Reply(tokens=("Done.",)),
    )
    _, frames = await turn(user, "Print it")
    [result] = [f for f in frames if f["type"] == "tool_result"]
    assert TOKEN not in json.dumps(frames)
    assert "[REDACTED:github_token]" in result["result"]

    leak = json.dumps({"code": f"print('''{SYSTEM_PROMPT}''')"})
    tools_on.enqueue(Reply(tokens=(), tool_calls=[ToolCall("python", leak, "l", 9)]))
    start, frames = await turn(user, "Print the greeting")
    assert frames[-1]["status"] == "filtered"
    assert "WINTERFOX" not in json.dumps(frames)
    reply = await Message.objects.aget(pk=start["message"])
    assert "WINTERFOX" not in json.dumps(reply.tool_steps)
    assert tools_on.request_count == 3  # the leaking call never ran to a 2nd round
