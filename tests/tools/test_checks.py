"""Misconfigured tool settings are reported at start-up."""

import pytest

from chat.tools.checks import check_tools_settings


def ids(settings, **values):
    for name, value in values.items():
        setattr(settings, name, value)
    return [error.id for error in check_tools_settings(None)]


def test_valid_settings_pass(settings):
    assert (
        ids(
            settings,
            CHAT_TOOLS=["python", "web_fetch", "mcp:files:*", "mcp:files:read"],
            CHAT_MCP_SERVERS={
                "files": {"url": "https://mcp.example/mcp", "headers": {"A": "TOK"}}
            },
            CHAT_TOOL_FLAGGED="drop",
        )
        == []
    )


@pytest.mark.parametrize("name", ["shell", "mcp:unknown:x", "mcp:files", "mcp:files:"])
def test_unknown_tool_names_are_errors(settings, name):
    servers = {"files": {"command": "files-mcp"}}
    assert ids(settings, CHAT_TOOLS=[name], CHAT_MCP_SERVERS=servers) == [
        "chat.tools.E002"
    ]


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ([], ["chat.tools.E003"]),
        ({"a": "https://x"}, ["chat.tools.E003"]),
        ({"a": {}}, ["chat.tools.E004"]),
        ({"a": {"url": "https://x", "command": "y"}}, ["chat.tools.E004"]),
        ({"a": {"url": "https://x", "headers": {"A": 1}}}, ["chat.tools.E005"]),
    ],
)
def test_malformed_mcp_servers_are_errors(settings, servers, expected):
    assert ids(settings, CHAT_TOOLS=[], CHAT_MCP_SERVERS=servers) == expected


def test_flagged_policy_must_be_known(settings):
    assert ids(settings, CHAT_TOOL_FLAGGED="ignore") == ["chat.tools.E001"]
