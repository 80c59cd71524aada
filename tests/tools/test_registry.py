"""Which tools a turn gets is decided on the server: CHAT_TOOLS for tool-capable
models and signed-in users, MCP tools from a real server, nothing else."""

import sys

import pytest
from django.contrib.auth.models import AnonymousUser

from chat.catalogue.entries import environment_entry
from chat.protocol import model_info
from chat.tools.errors import ToolError
from chat.tools.registry import BUILTIN, tool_by_function, tools_for
from tests.tools.samples import CAPABLE, MCP_SERVER, Entry


@pytest.fixture(autouse=True)
def _tools(settings):
    settings.CHAT_TOOLS = ["python"]
    settings.LLM_TOOLS = False
    settings.LLM_MODEL = "seeded"
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 20.0
    settings.CHAT_MCP_SERVERS = {
        "local": {"command": sys.executable, "args": [MCP_SERVER, "stdio"]},
        "down": {"url": "http://127.0.0.1:9/mcp"},
    }


async def names(user, entry=CAPABLE):
    return [tool.name for tool in await tools_for(user, entry, None)]


@pytest.mark.django_db
async def test_enabled_tools_for_a_capable_model(user):
    assert await names(user) == ["python"]


@pytest.mark.django_db
async def test_web_fetch_is_off_unless_named(user, settings):
    assert "web_fetch" not in await names(user)
    settings.CHAT_TOOLS = ["python", "web_fetch"]
    assert await names(user) == ["python", "web_fetch"]


@pytest.mark.django_db
async def test_models_that_cannot_call_tools_get_none(user):
    assert await names(user, Entry("plain", False)) == []


@pytest.mark.django_db
async def test_llm_tools_marks_the_seeded_model_capable(user, settings):
    assert await names(user, Entry("seeded", False)) == []
    settings.LLM_TOOLS = True
    assert await names(user, Entry("seeded", False)) == ["python"]
    assert await names(user, Entry("other", False)) == []


def test_hello_says_llm_tools_made_the_seeded_model_tool_capable(settings):
    entry = environment_entry()
    assert model_info(entry, default=entry.key)["capabilities"]["tools"] is False
    settings.LLM_TOOLS = True
    assert model_info(entry, default=entry.key)["capabilities"]["tools"] is True


async def test_anonymous_users_get_no_tools():
    assert await names(AnonymousUser()) == []


@pytest.mark.django_db
async def test_unknown_names_give_no_tool(user, settings):
    settings.CHAT_TOOLS = ["python", "shell", "mcp:nope", "admin:all"]
    assert await names(user) == ["python"]


@pytest.mark.django_db
async def test_mcp_tools_are_enabled_by_name_and_run(user, settings):
    settings.CHAT_TOOLS = ["mcp:local:add", "mcp:down:*"]
    [add] = await tools_for(user, CAPABLE, None)
    assert (add.name, add.function) == ("mcp:local:add", "mcp__local__add")
    assert add.schema()["function"]["parameters"]["required"] == ["a", "b"]
    assert await add.run({"a": 1, "b": 2}) == "3"


@pytest.mark.django_db
async def test_a_whole_mcp_server_can_be_enabled(user, settings):
    settings.CHAT_TOOLS = ["mcp:local:*"]
    assert sorted(await names(user)) == [
        "mcp:local:add",
        "mcp:local:page",
        "mcp:local:slow",
        "mcp:local:whoami",
    ]


def test_only_given_tools_can_be_called():
    assert tool_by_function([BUILTIN["python"]], "python") is BUILTIN["python"]
    with pytest.raises(ToolError) as caught:
        tool_by_function([BUILTIN["python"]], "web_fetch")
    assert caught.value.code == "unknown_tool"
