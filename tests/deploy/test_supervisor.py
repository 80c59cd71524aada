"""How many web processes a dyno runs (chatproject/supervisor.py), without
starting any."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chatproject import supervisor

REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_embedded_default_is_one_process_and_says_why():
    count, why = supervisor.process_count({"WEB_CONCURRENCY": "4"})
    assert count == 1
    assert "REDIS_URL is not set" in why and "not be shared" in why


def test_web_concurrency_sets_the_count():
    assert supervisor.process_count({**REDIS, "WEB_CONCURRENCY": "3"})[0] == 3


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_web_concurrency_is_refused(value):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        supervisor.process_count({**REDIS, "WEB_CONCURRENCY": value})


def test_default_is_usable_cores_capped_by_memory(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    monkeypatch.setattr(supervisor, "memory_limit", lambda: 8 << 30)
    assert supervisor.process_count(REDIS)[0] == 6
    monkeypatch.setattr(supervisor, "memory_limit", lambda: 1 << 30)  # a 1 GiB dyno
    assert supervisor.process_count(REDIS)[0] == 2
    monkeypatch.setattr(supervisor, "memory_limit", lambda: 300 << 20)
    assert supervisor.process_count(REDIS)[0] == 1


def test_count_is_printed_for_bin_web_and_the_reason_logged():
    env = {"PATH": os.environ["PATH"], "WEB_CONCURRENCY": "5"}
    done = subprocess.run(
        [sys.executable, "-m", "chatproject.supervisor", "--count"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "1"
    assert "REDIS_URL is not set: one web process" in done.stderr


def test_command_needs_the_socket_placeholder():
    with pytest.raises(SystemExit):
        supervisor.main(["--port", "0", "--", "daphne", "app"])
