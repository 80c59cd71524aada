"""Migration 0007 turns the flat conversations of 0006 (a regenerate superseded
replies, a continuation named the reply it continues) into trees, losing nothing:
each becomes the one path the page showed, hidden replies become earlier versions,
and migrating back restores the old fields."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from chat import tree
from chat.conversations import history_get
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

history = async_to_sync(history_get)

BEFORE = [("chat", "0006_catalogue")]
AFTER = [("chat", "0007_message_tree")]


def latest():
    """Every migration: the tests below read the migrated rows through today's
    models, which later migrations extended."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


class OldChat:
    """Rows as the code before the tree wrote them, with increasing timestamps."""

    def __init__(self, apps, user):
        self.Conversation = apps.get_model("chat", "Conversation")
        self.Message = apps.get_model("chat", "Message")
        self.user = user
        self.clock = timezone.now() - timedelta(days=1)

    def conversation(self, title):
        return self.Conversation.objects.create(user=self.user, title=title)

    def message(self, conversation, role, content, *, same_time=False, **fields):
        if not same_time:
            self.clock += timedelta(seconds=1)
        row = self.Message.objects.create(
            conversation=conversation, role=role, content=content, **fields
        )
        # auto_now_add set `created`; give it the conversation's own clock.
        self.Message.objects.filter(pk=row.pk).update(created=self.clock)
        return row

    def user_says(self, conversation, content):
        return self.message(conversation, "user", content)

    def reply(self, conversation, question, content, **fields):
        return self.message(
            conversation, "assistant", content, reply_to=question, **fields
        )

    def regenerate(self, conversation, question, old_parts, content):
        """What redo_create did: supersede the old reply and its continuations,
        take the one-to-one link over, name the replaced reply."""
        for part in old_parts:
            self.Message.objects.filter(pk=part.pk).update(
                superseded=True, reply_to=None
            )
        return self.message(
            conversation,
            "assistant",
            content,
            reply_to=question,
            replaces=old_parts[-1],
        )


@pytest.fixture
def old_data(db):
    apps = migrate(BEFORE)
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    user = User.objects.create(username="legacy")
    old = OldChat(apps, user)
    data = {}

    plain = old.conversation("plain")
    u1 = old.user_says(plain, "Hi")
    a1 = old.reply(plain, u1, "Hello!")
    u2 = old.user_says(plain, "How are you?")
    a2 = old.reply(plain, u2, "Fine.")
    data["plain"] = (plain, [u1, a1, u2, a2])

    regen = old.conversation("regenerated twice")
    u1 = old.user_says(regen, "Name a colour")
    first = old.reply(regen, u1, "Red")
    second = old.regenerate(regen, u1, [first], "Blue")
    third = old.regenerate(regen, u1, [second], "Green")
    u2 = old.user_says(regen, "Why?")
    a2 = old.reply(regen, u2, "It calms.")
    data["regenerated"] = (regen, [u1, third, u2, a2], [first, second, third])

    cont = old.conversation("continued")
    u1 = old.user_says(cont, "Tell a story")
    part = old.reply(cont, u1, "Once upon", status="interrupted")
    more = old.message(cont, "assistant", " a time.", continues=part)
    u2 = old.user_says(cont, "Another")
    a2 = old.reply(cont, u2, "No.", status="cancelled")
    data["continued"] = (cont, [u1, part, more, u2, a2])

    redo = old.conversation("regenerated after a continuation")
    u1 = old.user_says(redo, "Poem")
    part = old.reply(redo, u1, "Roses", status="interrupted")
    more = old.message(redo, "assistant", " are", continues=part, status="interrupted")
    fresh = old.regenerate(redo, u1, [part, more], "Violets are blue.")
    data["regenerated_continued"] = (redo, [u1, fresh], [part, more])

    failed = old.conversation("failed then interrupted")
    u1 = old.user_says(failed, "First try")
    a1 = old.reply(failed, u1, "", status="failed", error_code="provider_unavailable")
    u2 = old.user_says(failed, "Second try")
    a2 = old.reply(failed, u2, "Half", status="interrupted")
    data["failed"] = (failed, [u1, a1, u2, a2])

    # A send stored both rows in one INSERT: equal timestamps are possible.
    tie = old.conversation("same timestamp")
    u1 = old.user_says(tie, "Quick")
    a1 = old.message(tie, "assistant", "Answer", same_time=True, reply_to=u1)
    u2 = old.user_says(tie, "Again")
    a2 = old.message(tie, "assistant", "Twice", same_time=True, reply_to=u2)
    data["tie"] = (tie, [u1, a1, u2, a2])

    data["empty"] = (old.conversation("empty"), [])
    data["all"] = {
        row["id"]: row
        for row in old.Message.objects.values(
            "id", "conversation_id", "role", "content", "status", "created"
        )
    }
    yield data
    migrate(latest())


def ids(rows) -> list:
    return [row.id for row in rows]


def test_each_conversation_becomes_the_path_it_showed(old_data):
    migrate(latest())
    for name in ("plain", "regenerated", "continued", "failed", "tie", "empty"):
        conversation, shown, *_ = old_data[name]
        fresh = Conversation.objects.get(pk=conversation.pk)
        assert ids(tree.active_path(fresh)) == ids(shown), name
        assert fresh.active_leaf_id == (shown[-1].id if shown else None)
    # Nothing lost: every row, with its text, status and time.
    after = {
        row["id"]: row
        for row in Message.objects.values(
            "id", "conversation_id", "role", "content", "status", "created"
        )
    }
    assert after == old_data["all"]


def test_hidden_replies_become_earlier_versions(old_data):
    migrate(latest())
    _, shown, versions = old_data["regenerated"]
    newest = Message.objects.get(pk=shown[1].id)
    assert tree.versions_of(newest) == ids(versions)
    # A reply regenerated after a continuation: the old reply keeps its part.
    _, shown, (part, more) = old_data["regenerated_continued"]
    fresh = Message.objects.get(pk=shown[1].id)
    assert tree.versions_of(fresh) == [part.id, fresh.id]
    assert (Message.objects.get(pk=more.id)).parent_id == part.id


def test_prompts_read_as_before(old_data):
    migrate(latest())
    conversation, *_ = old_data["continued"]
    assert history(conversation=conversation) == [
        ("user", "Tell a story"),
        ("assistant", "Once upon"),
        ("assistant", " a time."),
        ("user", "Another"),
        ("assistant", "No."),
    ]
    conversation, *_ = old_data["failed"]
    # A failed empty reply stays on the path but out of the prompt, as before.
    assert history(conversation=conversation) == [
        ("user", "First try"),
        ("user", "Second try"),
        ("assistant", "Half"),
    ]


def test_migrating_back_restores_the_flat_fields(old_data):
    migrate(AFTER)
    apps = migrate(BEFORE)
    Message = apps.get_model("chat", "Message")
    _, shown, (first, second, third) = old_data["regenerated"]
    rows = {
        row["id"]: row
        for row in Message.objects.values(
            "id", "superseded", "reply_to_id", "replaces_id", "continues_id"
        )
    }
    assert not rows[third.id]["superseded"]
    assert rows[third.id]["reply_to_id"] == shown[0].id
    assert rows[third.id]["replaces_id"] == second.id
    assert rows[first.id]["superseded"] and rows[second.id]["superseded"]
    _, (u1, part, more, *_) = old_data["continued"]
    assert rows[more.id]["continues_id"] == part.id
    assert rows[part.id]["reply_to_id"] == u1.id
    assert not any(rows[m.id]["superseded"] for m in old_data["continued"][1])
