"""Which tools a turn gets, as the admin sets it: per catalogue model (the admin
form lists the built-in tools and each MCP server's), per group (Tool access), and
the MCP listing cached so a stdio server is not started per turn."""

from __future__ import annotations

import sys

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from chat.catalogue.store import get_catalogue
from chat.models import CatalogueEntry, ToolAccess
from chat.tools.mcp_servers import list_mcp_tools
from chat.tools.registry import tools_for
from tests.catalogue.test_admin import form
from tests.tools.samples import MCP_SERVER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mcp(settings):
    settings.CHAT_TOOLS = []
    settings.CHAT_TOOL_TIMEOUT_SECONDS = 20.0
    settings.CHAT_MCP_SERVERS = {
        "local": {"command": sys.executable, "args": [MCP_SERVER, "stdio"]}
    }


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(admin)
    return client


def names_for(user, key):
    async def run():
        catalogue = await get_catalogue()
        entry = catalogue.get(key) or catalogue.default()
        return [tool.name for tool in await tools_for(user, entry, None)]

    return async_to_sync(run)()


def test_the_admin_enables_tools_per_model(staff_client, user, monkeypatch):
    monkeypatch.setenv("DJCHAT_TEST_UNSET_KEY", "k")
    page = staff_client.get("/admin/chat/catalogueentry/add/").content.decode()
    for name in ("python", "web_fetch", "mcp:local:*", "mcp:local:add"):
        assert f'value="{name}"' in page
    response = staff_client.post(
        "/admin/chat/catalogueentry/add/",
        form(tools="on", tool_names=["python", "mcp:local:add"]),
    )
    assert response.status_code == 302
    entry = CatalogueEntry.objects.get(key="remote")
    assert entry.tool_names == ["python", "mcp:local:add"]
    assert names_for(user, "remote") == ["python", "mcp:local:add"]
    # A model that is not tool-capable gets none, whatever is enabled for it.
    CatalogueEntry.objects.filter(key="remote").update(tools=False)
    from chat.catalogue import store

    store._loaded = store._Loaded()
    assert names_for(user, "remote") == []


def test_a_name_that_is_not_a_tool_is_refused_by_the_form(staff_client):
    response = staff_client.post(
        "/admin/chat/catalogueentry/add/", form(tools="on", tool_names=["shell"])
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CatalogueEntry.objects.filter(key="remote").exists()


def test_tool_access_limits_a_tool_to_groups(user, other_user, settings):
    settings.CHAT_TOOLS = ["python", "mcp:local:*"]
    settings.LLM_TOOLS = True
    analysts = Group.objects.create(name="analysts")
    user.groups.add(analysts)
    ToolAccess.objects.create(name="python").groups.add(analysts)
    ToolAccess.objects.create(name="mcp:local:*").groups.add(analysts)
    ToolAccess.objects.create(name="web_fetch")  # no group: everyone
    assert "python" in names_for(user, "default")
    assert "mcp:local:add" in names_for(user, "default")
    assert names_for(other_user, "default") == []


def test_the_mcp_listing_is_cached(settings, tmp_path):
    starts = tmp_path / "starts"
    script = f"echo started >> {starts}; exec {sys.executable} {MCP_SERVER} stdio"
    settings.CHAT_MCP_SERVERS = {"counted": {"command": "sh", "args": ["-c", script]}}

    async def list_three_times():
        return [len(await list_mcp_tools("counted")) for _ in range(3)]

    assert async_to_sync(list_three_times)() == [4, 4, 4]
    assert starts.read_text().count("started") == 1
