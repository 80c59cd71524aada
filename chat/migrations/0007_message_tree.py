"""Messages form a tree (Message.parent) with an active branch
(Conversation.active_leaf). Every conversation becomes one path showing what the page
showed before; replies hidden by a regenerate become earlier versions (siblings) of
the reply that replaced them. reply_to, replaces, continues and superseded are all
read off the tree now, so they go."""

import django.db.models.deletion
from django.db import migrations, models


def _rows(Message, conversation_id) -> list[dict]:
    rows = Message.objects.filter(conversation_id=conversation_id).values(
        "id", "role", "created", "reply_to_id", "continues_id", "superseded",
        "parent_id",
    )
    # A user message and its reply can share a timestamp: the question first.
    return sorted(rows, key=lambda r: (r["created"], r["role"] != "user", str(r["id"])))


def build_tree(apps, schema_editor):
    """A user message follows the last message shown before it; a reply its user
    message (through `reply_to`, or the last user message before it when a
    regenerate took that link away); a continuation the reply it continues. The
    active leaf is the last message shown."""
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    for conversation_id in Conversation.objects.values_list("id", flat=True).iterator():
        changed, last_shown, last_user = [], None, None
        for row in _rows(Message, conversation_id):
            if row["role"] == "user":
                parent = last_shown
                last_user = row["id"]
            else:
                parent = row["continues_id"] or row["reply_to_id"] or last_user
            if not row["superseded"]:
                last_shown = row["id"]
            changed.append(Message(id=row["id"], parent_id=parent))
        Message.objects.bulk_update(changed, ["parent"], batch_size=500)
        Conversation.objects.filter(id=conversation_id).update(
            active_leaf_id=last_shown
        )


def flatten_tree(apps, schema_editor):
    """Back to one list: what is off the active path is superseded, a reply on it
    answers its user message, a continuation names the reply it continues, and a
    later version names the one before it as replaced."""
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    for conversation in Conversation.objects.only("id", "active_leaf_id").iterator():
        rows = {row["id"]: row for row in _rows(Message, conversation.id)}
        on_path, node = set(), conversation.active_leaf_id
        while node is not None and node not in on_path:
            on_path.add(node)
            node = rows[node]["parent_id"]
        previous_sibling: dict = {}
        changed = []
        for row in rows.values():
            parent = rows.get(row["parent_id"])
            message = Message(id=row["id"], superseded=row["id"] not in on_path)
            if row["role"] == "assistant" and parent is not None:
                if parent["role"] == "assistant":
                    message.continues_id = parent["id"]
                else:
                    if row["id"] in on_path:
                        message.reply_to_id = parent["id"]
                    message.replaces_id = previous_sibling.get(parent["id"])
                    previous_sibling[parent["id"]] = row["id"]
            changed.append(message)
        Message.objects.bulk_update(
            changed,
            ["superseded", "continues", "reply_to", "replaces"],
            batch_size=500,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_catalogue"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="children",
                to="chat.message",
            ),
        ),
        migrations.AddField(
            model_name="conversation",
            name="active_leaf",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="chat.message",
            ),
        ),
        migrations.RunPython(build_tree, flatten_tree, elidable=False),
        migrations.RemoveField(model_name="message", name="reply_to"),
        migrations.RemoveField(model_name="message", name="replaces"),
        migrations.RemoveField(model_name="message", name="continues"),
        migrations.RemoveField(model_name="message", name="superseded"),
    ]
