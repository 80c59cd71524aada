"""The conversation list in Chromium, on the embedded default (SQLite, FTS5):
date groups, pages loaded on scroll, rename, pin, archive, and search that opens a
conversation at the message found."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.browser.conftest import REPO, USERNAME, serve_app
from tests.browser.test_chat_page import log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI)
    expect = None

# The module starts its own server and seeds it: slow on a loaded machine.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TOTAL = 130
# Made in the app's own database, in its own process; dates relative to now.
SEED = f"""
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from chat.models import Conversation, Message

user = get_user_model().objects.get(username={USERNAME!r})
now = timezone.now()
ages = [0, 0, 0, 1, 1, 3, 4, 5, 6] + [40 + 5 * i for i in range({TOTAL} - 9)]
for i, days in enumerate(ages):
    conversation = Conversation.objects.create(user=user, title=f"Seeded {{i:03d}}")
    if i == 4:
        conversation.title = "Travel notes"
        last = None
        for n in range(30):
            last = Message.objects.create(
                conversation=conversation, parent=last, content=f"Question {{n}}"
            )
            last = Message.objects.create(
                conversation=conversation,
                parent=last,
                role="assistant",
                content=(
                    "The ferry to **Zanzibar** leaves at dawn."
                    if n == 3
                    else f"Answer number {{n}} " + "with filler text " * 20
                ),
            )
        # The message tree (chat.tree): the page shows the path to this leaf.
        conversation.active_leaf = last
        conversation.save()
    Conversation.objects.filter(pk=conversation.pk).update(
        updated=now - timedelta(days=days, minutes=i)
    )
"""


@pytest.fixture(scope="module")
def list_app(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("list_app")
    with serve_app(workdir, LLM_BACKEND="demo", CHAT_RATE_LIMITS="1000/1m") as app:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "chatproject.settings",
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        }
        env.pop("REDIS_URL", None)
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield app


def items(page):
    return page.locator("#conversation-list li.conversation")


def item(page, title):
    return page.locator("#conversation-list li.conversation", has_text=title)


def headings(page):
    return page.locator("#conversation-list .conversation-group-title")


def test_groups_by_date_and_pages_on_scroll(page, list_app, screenshot_dir):
    log_in(page, list_app)
    expect(items(page)).to_have_count(50)
    labels = headings(page).all_inner_texts()
    assert labels[:3] == ["Today", "Yesterday", "Previous 7 days"], labels
    assert len(labels) > 3 and all(re.search(r"[A-Z][a-z]+", x) for x in labels[3:])
    page.screenshot(path=screenshot_dir / "list-01-groups.png")
    scroller = page.locator("#sidebar .conversations")
    for expected in (100, TOTAL):
        scroller.evaluate("(node) => { node.scrollTop = node.scrollHeight; }")
        expect(items(page)).to_have_count(expected)
    scroller.evaluate("(node) => { node.scrollTop = node.scrollHeight; }")
    expect(page.locator("#conversation-more")).to_be_hidden()
    titles = items(page).locator(".conversation-title").all_inner_texts()
    assert len(set(titles)) == TOTAL


def test_rename_pin_and_archive(page, list_app):
    log_in(page, list_app)
    row = item(page, "Seeded 005")
    row.hover()
    row.get_by_role("button", name="Rename “Seeded 005”").click()
    field = page.get_by_label("New title")
    field.fill("Budget for the garden")
    field.press("Enter")
    renamed = item(page, "Budget for the garden")
    expect(renamed).to_be_visible()

    renamed.hover()
    renamed.get_by_role("button", name="Pin “Budget for the garden”").click()
    expect(headings(page).first).to_have_text("Pinned")
    expect(items(page).first).to_contain_text("Budget for the garden")

    page.reload()  # all of it stored
    expect(items(page).first).to_contain_text("Budget for the garden")
    expect(
        items(page).first.get_by_role("button", name=re.compile("^Unpin"))
    ).to_have_attribute("aria-pressed", "true")

    row = item(page, "Seeded 006")
    row.hover()
    row.get_by_role("button", name="Archive “Seeded 006”").click()
    expect(item(page, "Seeded 006")).to_have_count(0)
    page.get_by_role("button", name="Archived").click()
    expect(page.locator("#history-heading")).to_have_text("Archived")
    expect(items(page)).to_have_count(1)
    expect(items(page).first).to_contain_text("Seeded 006")
    page.get_by_role("button", name="Archived").click()
    expect(page.locator("#history-heading")).to_have_text("Recent")
    expect(item(page, "Seeded 006")).to_have_count(0)


def test_search_jumps_to_the_message(page, list_app, screenshot_dir):
    log_in(page, list_app)
    expect(items(page)).to_have_count(50)
    page.keyboard.press("Control+k")
    search = page.get_by_label("Search conversations")
    expect(search).to_be_focused()
    search.fill("zanzib")
    expect(page.locator("#history-heading")).to_have_text("Search results")
    expect(items(page)).to_have_count(1)
    result = items(page).first
    expect(result.locator(".conversation-title")).to_have_text("Travel notes")
    expect(result.locator(".conversation-snippet mark")).to_have_text("Zanzibar")
    expect(result.locator(".conversation-snippet")).not_to_contain_text("**")
    page.screenshot(path=screenshot_dir / "list-02-search.png")
    result.locator("a").click()
    expect(page).to_have_url(re.compile(r"\?c=[0-9a-f-]{36}&m=[0-9a-f-]{36}"))
    found = page.locator("#messages .msg.is-found")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("The ferry to Zanzibar leaves at dawn.")
    expect(found).to_be_in_viewport()
    # Far from the end of a long conversation: not simply scrolled to the bottom.
    expect(page.locator("#messages > li").last).not_to_be_in_viewport()
    page.screenshot(path=screenshot_dir / "list-03-jump.png")

    search.fill('"zanzibar" OR *; DROP TABLE')
    expect(page.locator("#conversation-empty")).to_have_text("No conversation matches.")
    search.press("Escape")
    expect(items(page)).to_have_count(50)
