"""Each engine for real: the search tests run again on SQLite (the embedded
default's FTS5, in a pytest of its own, since a process has one database), and
PostgreSQL's queries use its GIN indexes."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from chat.search import postgres

REPO = Path(__file__).resolve().parents[2]


def test_the_search_tests_pass_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SEARCH_EXPECT_VENDOR": "sqlite",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/search/test_queries.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) >= 30, output
    assert "skipped" not in output, output


@pytest.mark.django_db
def test_postgres_queries_use_the_gin_indexes(user):
    if connection.vendor != "postgresql":
        pytest.skip("the suite runs on SQLite here; test_queries covers it")
    from django.contrib.postgres.search import SearchVector

    from chat.models import Conversation, Message
    from chat.search.postgres import _query

    query = _query(["tomatoes", "bas"])
    config = postgres.language()
    for model, field, index in (
        (Message, "content", "chat_message_search"),
        (Conversation, "title", "chat_conversation_search"),
    ):
        rows = model.objects.annotate(search=SearchVector(field, config=config))
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = rows.filter(search=query).explain()
        assert index in plan, plan
