"""System checks for the tool settings: a misspelt tool name or a malformed MCP
server is reported at start-up rather than silently giving no tool."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

__all__ = ["check_tools_settings"]

BUILTIN_NAMES = ("python", "web_fetch")


def _error(number: int, message: str) -> checks.Error:
    return checks.Error(message, id=f"chat.tools.E{number:03d}")


def _server_errors(name: object, config: object) -> list[checks.Error]:
    """What is wrong with one entry of CHAT_MCP_SERVERS."""
    if not isinstance(config, dict):
        return [_error(3, f"CHAT_MCP_SERVERS[{name!r}] must be an object.")]
    if bool(config.get("url")) == bool(config.get("command")):
        return [
            _error(4, f"CHAT_MCP_SERVERS[{name!r}] needs a url or a command, not both.")
        ]
    errors = []
    for key in ("headers", "env"):
        value = config.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(item, str) for item in value.values()
        ):
            errors.append(
                _error(
                    5,
                    f"CHAT_MCP_SERVERS[{name!r}].{key} must map names to the names "
                    "of environment variables.",
                )
            )
    return errors


def check_tools_settings(app_configs, **kwargs) -> list[checks.Error]:
    errors = []
    if settings.CHAT_TOOL_FLAGGED not in ("quote", "drop"):
        errors.append(_error(1, "CHAT_TOOL_FLAGGED must be 'quote' or 'drop'."))
    servers = settings.CHAT_MCP_SERVERS
    if not isinstance(servers, dict):
        errors.append(_error(3, "CHAT_MCP_SERVERS must be a JSON object."))
        servers = {}
    for name, config in servers.items():
        errors += _server_errors(name, config)
    for name in settings.CHAT_TOOLS:
        parts = name.split(":")
        known = name in BUILTIN_NAMES or (
            len(parts) == 3 and parts[0] == "mcp" and parts[1] in servers and parts[2]
        )
        if not known:
            errors.append(
                _error(
                    2,
                    f"CHAT_TOOLS names {name!r}: not python, web_fetch or "
                    "mcp:<server>:<tool> of a server in CHAT_MCP_SERVERS.",
                )
            )
    return errors
