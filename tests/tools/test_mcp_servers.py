"""MCP servers end to end: a real server process started by the test, its tools
listed and called; a server that is down, missing or killed mid-call degrades to a
clean tool error."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from chat.tools.errors import ToolError
from chat.tools.mcp_servers import call_mcp_tool, list_mcp_tools, server_connection
from tests.tools.samples import MCP_SERVER

TOKEN = "Bearer mcp-token-7f3a"


@pytest.fixture(autouse=True)
def _servers(settings):
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 20.0
    settings.CHAT_MCP_SERVERS = {
        "local": {"command": sys.executable, "args": [MCP_SERVER, "stdio"]},
        "missing": {"command": "/nonexistent/mcp-server"},
        "down": {"url": "http://127.0.0.1:9/mcp"},
        "nosecret": {"url": "http://127.0.0.1:9/mcp", "headers": {"X": "NOPE_UNSET"}},
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def http_server(settings, monkeypatch):
    """The same server over streamable HTTP, its token in an environment variable."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, MCP_SERVER, "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    monkeypatch.setenv("TEST_MCP_TOKEN", TOKEN)
    settings.CHAT_MCP_SERVERS = {
        "remote": {
            "url": f"http://127.0.0.1:{port}/mcp",
            "headers": {"Authorization": "TEST_MCP_TOKEN"},
        }
    }
    yield
    process.terminate()
    process.wait(10)


async def test_stdio_server_tools_are_listed_and_called():
    tools = {tool.name: tool for tool in await list_mcp_tools("local")}
    assert set(tools) == {
        "mcp:local:add",
        "mcp:local:whoami",
        "mcp:local:slow",
        "mcp:local:page",
    }
    assert await call_mcp_tool(tools["mcp:local:add"], {"a": 2, "b": 40}) == "42"


async def test_http_server_gets_its_header_secret_from_the_environment(http_server):
    tools = {tool.name: tool for tool in await list_mcp_tools("remote")}
    assert await call_mcp_tool(tools["mcp:remote:whoami"], {}) == TOKEN


async def test_stdio_child_does_not_inherit_the_server_environment(monkeypatch):
    monkeypatch.setenv("CHAT_FAKE_SECRET", "do-not-pass")
    connection = server_connection("local")
    assert "CHAT_FAKE_SECRET" not in connection["env"]


@pytest.mark.parametrize("server", ["missing", "down", "nosecret", "unknown"])
async def test_unavailable_servers_offer_no_tools(server):
    assert await list_mcp_tools(server) == []


async def test_server_killed_mid_call_is_a_clean_tool_error(tmp_path):
    tools = {tool.name: tool for tool in await list_mcp_tools("local")}
    pid_file = tmp_path / "pid"
    call = asyncio.create_task(
        call_mcp_tool(tools["mcp:local:slow"], {"pid_file": str(pid_file)})
    )
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    with pytest.raises(ToolError) as caught:
        await asyncio.wait_for(call, 20)
    assert caught.value.code == "unavailable"


async def test_a_hanging_tool_times_out(settings, tmp_path):
    tools = {tool.name: tool for tool in await list_mcp_tools("local")}
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 1.0
    with pytest.raises(ToolError) as caught:
        await call_mcp_tool(tools["mcp:local:slow"], {"pid_file": str(tmp_path / "p")})
    assert caught.value.code == "timeout"


async def test_bad_arguments_are_a_tool_error_not_an_exception():
    tools = {tool.name: tool for tool in await list_mcp_tools("local")}
    with pytest.raises(ToolError) as caught:
        await call_mcp_tool(tools["mcp:local:add"], {"a": "not a number"})
    assert caught.value.code == "tool_failed"
    assert "validation error" in caught.value.message.lower()
