"""Invalidation routes: the management command, the admin actions and the purge of
the entry behind one reply."""

import asyncio
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from chat.admin import cache_actions as admin_actions
from chat.cache.backends import get_backend
from chat.cache.invalidation import cache_clear, reply_purge
from chat.cache.keys import user_scope
from chat.models import Conversation, Message, ModelCall

pytestmark = pytest.mark.django_db

ENTRIES = [
    ("k-a1", "model-a", user_scope(1)),
    ("k-a2", "model-a", user_scope(2)),
    ("k-b1", "model-b", user_scope(1)),
    ("k-b2", "model-b", user_scope(2)),
]


def fill(store, entries=ENTRIES):
    for key, model, scope in entries:
        store.set(key, f"value {key}", model=model, scope=scope, ttl=60)


def remaining(store) -> set[str]:
    return {key for key, _, _ in ENTRIES if store.get(key) is not None}


def command(*args) -> str:
    out = StringIO()
    call_command("clear_llm_cache", *args, stdout=out)
    return out.getvalue()


def test_command_clears_everything(store):
    fill(store)
    assert "Removed 4 cached replies" in command()
    assert remaining(store) == set()


def test_command_clears_one_model(store):
    fill(store)
    assert "Removed 2 cached replies of model 'model-a'" in command(
        "--model", "model-a"
    )
    assert remaining(store) == {"k-b1", "k-b2"}


def test_command_clears_one_user_by_name_or_id(store, user):
    fill(store, [("k-u", "m", user_scope(user.pk)), ("k-x", "m", user_scope("x"))])
    assert "Removed 1 cached reply of user 'alice'" in command("--user", "alice")
    assert store.get("k-u") is None and store.get("k-x") is not None
    fill(store, [("k-u", "model-a", user_scope(user.pk))])
    command("--user", str(user.pk))
    assert store.get("k-u") is None


def test_command_clears_one_model_of_one_user(store, user):
    fill(store, [("x1", "model-a", user_scope(user.pk))])
    fill(store, [("x2", "model-b", user_scope(user.pk))])
    command("--model", "model-a", "--user", "alice")
    assert store.get("x1") is None and store.get("x2") is not None


def test_command_names_an_unknown_user(store):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        command("--user", "nobody")


def test_command_warns_that_memory_is_per_process(settings):
    settings.CHAT_CACHE_BACKEND = "memory"
    assert "lives inside each server process" in command()


def test_command_with_the_cache_off(settings):
    settings.CHAT_CACHE_BACKEND = "off"
    assert "off" in command()


def test_purge_removes_only_the_entry_behind_the_reply(store):
    fill(store)
    assert reply_purge(SimpleNamespace(cache_key="k-a1")) is True
    assert reply_purge(SimpleNamespace(cache_key="k-a1")) is False
    assert reply_purge(SimpleNamespace(cache_key="")) is False
    assert reply_purge(SimpleNamespace()) is False
    assert remaining(store) == {"k-a2", "k-b1", "k-b2"}


def test_cache_clear_by_user_id(store):
    fill(store)
    assert cache_clear(user_id=2) == 2
    assert remaining(store) == {"k-a1", "k-b1"}


# --- admin actions ------------------------------------------------------------------


class FakeAdmin(admin_actions.LlmCacheAdminMixin):
    def __init__(self):
        self.said: list[str] = []

    def message_user(self, request, text, level=None):
        self.said.append(text)


@pytest.fixture
def admin_request(db):
    superuser = get_user_model().objects.create_superuser("root", password="pw-root")
    request = RequestFactory().post("/admin/")
    request.user = superuser
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.fixture
def rows(user, other_user):
    """A reply per user (models a and b) and their ledger rows."""
    made = []
    for owner, model in ((user, "model-a"), (other_user, "model-b")):
        conversation = Conversation.objects.create(user=owner)
        reply = Message.objects.create(
            conversation=conversation, role=Message.Role.ASSISTANT, model=model
        )
        ModelCall.objects.create(
            user=owner,
            conversation=conversation,
            message=reply,
            model=model,
            status=Message.Status.COMPLETE,
        )
        made.append(reply)
    return made


def test_actions_need_the_permission(rf, user):
    request = rf.post("/admin/")
    request.user = user
    assert not FakeAdmin().has_clear_llm_cache_permission(request)
    for action in admin_actions.CACHE_ACTIONS:
        assert list(action.allowed_permissions) == ["clear_llm_cache"]


def test_action_clears_the_selected_messages_models(store, admin_request, rows):
    fill(store)
    modeladmin = FakeAdmin()
    queryset = Message.objects.filter(pk=rows[0].pk)
    admin_actions.clear_cache_for_models(modeladmin, admin_request, queryset)
    assert remaining(store) == {"k-b1", "k-b2"}
    assert "Removed 2 cached entries (models: model-a)" in modeladmin.said[0]


def test_action_clears_the_selected_messages_users(
    store, admin_request, rows, user, other_user
):
    fill(store, [("mine", "m", user_scope(user.pk))])
    fill(store, [("theirs", "m", user_scope(other_user.pk))])
    queryset = Message.objects.filter(pk=rows[0].pk)
    admin_actions.clear_cache_for_users(FakeAdmin(), admin_request, queryset)
    assert store.get("mine") is None and store.get("theirs") is not None


def test_action_clears_users_from_ledger_rows_and_user_rows(
    store, admin_request, rows, user, other_user
):
    fill(
        store,
        [("u1", "m", user_scope(user.pk)), ("u2", "m", user_scope(other_user.pk))],
    )
    calls = ModelCall.objects.filter(user=user)
    admin_actions.clear_cache_for_users(FakeAdmin(), admin_request, calls)
    assert store.get("u1") is None and store.get("u2") is not None
    users = get_user_model().objects.filter(pk=other_user.pk)
    admin_actions.clear_cache_for_users(FakeAdmin(), admin_request, users)
    assert store.get("u2") is None


def test_action_clears_the_whole_cache(store, admin_request, rows):
    fill(store)
    admin_actions.clear_whole_cache(FakeAdmin(), admin_request, Message.objects.all())
    assert remaining(store) == set()


def test_action_purges_the_entry_behind_each_reply(store, admin_request):
    fill(store)
    modeladmin = FakeAdmin()
    replies = [SimpleNamespace(cache_key="k-a1"), SimpleNamespace(cache_key="")]
    admin_actions.purge_cached_replies(modeladmin, admin_request, replies)
    assert remaining(store) == {"k-a2", "k-b1", "k-b2"}
    assert "Removed 1 cached entry" in modeladmin.said[0]
    admin_actions.purge_cached_replies(modeladmin, admin_request, replies[1:])
    assert "None of the selected messages" in modeladmin.said[1]


def test_admin_clears_the_servers_memory_store(settings, admin_request, rows):
    """Admin actions run in the server process, so they reach its memory store."""
    settings.CHAT_CACHE_BACKEND = "memory"
    store = get_backend()
    asyncio.run(store.aset("k", "v", model="model-a", scope="s", ttl=60))
    admin_actions.clear_whole_cache(FakeAdmin(), admin_request, Message.objects.all())
    assert store.get("k") is None
