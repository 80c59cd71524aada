"""MCP servers the admin trusts, through `langchain-mcp-adapters`.

Servers come from `CHAT_MCP_SERVERS` (a URL spoken to over streamable HTTP, or a
command spoken to over stdio); header and environment values there are the names of
environment variables holding the secrets, so no secret sits in the settings. Every
failure of a server (not starting, refusing, hanging, dying mid-call, answering
garbage) becomes a `ToolError("unavailable")` or an empty tool list: a turn never
fails because an MCP server did.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from langchain_core.tools import BaseTool, ToolException
from langchain_mcp_adapters.tools import load_mcp_tools

from chat.tools.errors import ToolError

__all__ = ["McpTool", "call_mcp_tool", "list_mcp_tools", "server_connection"]

log = logging.getLogger(__name__)

# A server that listed nothing (down, misconfigured) is asked again after this
# many seconds, so a turn does not wait out its timeout each time.
FAILED_LIST_SECONDS = 10.0
# Listings by server name and configuration: (expiry, tools).
_listed: dict[tuple[str, str], tuple[float, list[McpTool]]] = {}


@dataclass(frozen=True)
class McpTool:
    """One tool of one server, under its policy name `mcp:<server>:<tool>`."""

    server: str
    tool: BaseTool

    @property
    def name(self) -> str:
        return f"mcp:{self.server}:{self.tool.name}"


def _secrets(names: dict[str, str], server: str) -> dict[str, str]:
    """Values of the environment variables named in a server's configuration."""
    values = {}
    for key, variable in names.items():
        value = os.environ.get(variable)
        if value is None:
            raise ToolError("unavailable", f"MCP server {server} is not configured.")
        values[key] = value
    return values


def server_connection(name: str) -> dict[str, Any]:
    """The adapter's connection for the configured server `name`."""
    config = settings.CHAT_MCP_SERVERS.get(name)
    if not isinstance(config, dict):
        raise ToolError("unavailable", f"No MCP server is called {name}.")
    timeout = settings.CHAT_TOOL_TIMEOUT_SECONDS
    if config.get("url"):
        return {
            "transport": "streamable_http",
            "url": config["url"],
            "headers": _secrets(config.get("headers") or {}, name),
            "timeout": timeout,
            "sse_read_timeout": timeout,
        }
    if config.get("command"):
        # The child gets only PATH and the variables named for it, not ours.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update(_secrets(config.get("env") or {}, name))
        return {
            "transport": "stdio",
            "command": config["command"],
            "args": list(config.get("args") or []),
            "env": env,
        }
    raise ToolError("unavailable", f"MCP server {name} has no url or command.")


async def list_mcp_tools(server: str) -> list[McpTool]:
    """The tools `server` offers, listed at most every CHAT_MCP_LIST_SECONDS per
    process (listing a stdio server starts it); empty when it is unavailable."""
    config = json.dumps(settings.CHAT_MCP_SERVERS.get(server), sort_keys=True)
    now = time.monotonic()
    expires, tools = _listed.get((server, config), (0.0, []))
    if expires > now:
        return tools
    tools = await _list(server)
    ttl = settings.CHAT_MCP_LIST_SECONDS
    if not tools:
        ttl = min(ttl, FAILED_LIST_SECONDS)
    _listed[(server, config)] = (now + ttl, tools)
    return tools


async def _list(server: str) -> list[McpTool]:
    """Ask the server for its tools now; an empty list when it is unavailable."""
    try:
        connection = server_connection(server)
        async with asyncio.timeout(settings.CHAT_TOOL_TIMEOUT_SECONDS):
            tools = await load_mcp_tools(
                None,
                connection=connection,
                server_name=server,
                handle_tool_errors=False,
            )
    except Exception as exc:  # noqa: BLE001 - any server failure degrades
        log.warning("MCP server %s unavailable: %s", server, type(exc).__name__)
        return []
    return [McpTool(server, tool) for tool in tools]


async def call_mcp_tool(tool: McpTool, arguments: dict[str, Any]) -> str:
    """Call one MCP tool and return its text; any failure is a `ToolError`."""
    deadline = asyncio.timeout(settings.CHAT_TOOL_TIMEOUT_SECONDS)
    try:
        async with deadline:
            content = await tool.tool.ainvoke(arguments)
    except ToolException as exc:
        # The server ran the tool and reported an error (bad arguments, ...).
        raise ToolError("tool_failed", str(exc)[:1000]) from None
    except Exception as exc:  # noqa: BLE001 - any server failure degrades
        # The adapter's task groups may wrap the deadline's cancellation.
        if deadline.expired():
            raise ToolError("timeout", f"{tool.name} took too long.") from None
        log.warning("MCP tool %s failed: %s", tool.name, type(exc).__name__)
        raise ToolError("unavailable", f"{tool.name} is unavailable.") from None
    return _text(content)


def _text(content: Any) -> str:
    """The text of an MCP result (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            else:
                parts.append("[non-text content omitted]")
        return "\n".join(parts)
    return str(content)
