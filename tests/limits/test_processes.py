import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from tests.limits.conftest import REDIS_URL, need_redis

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_share_one_users_rate_limit():
    need_redis()
    prefix = f"test:limits:{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "chatproject.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "hammer-" + "x" * 50,
    }
    command = [sys.executable, "-m", "tests.limits.hammer", prefix, "42", "500"]
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            line = process.stdout.readline().strip()
            assert line == "ready", process.stderr.read()
        start = time.time() + 0.2
        for process in processes:
            process.stdin.write(f"{start}\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=90) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    for process, (_, errors) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, errors
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    # Both race from the same instant until each has been refused 100 times; the
    # limit is 500 a minute, whoever gets them.
    assert sum(result["admitted"] for result in results) == 500
    assert all(result["refused"] >= 100 for result in results)
