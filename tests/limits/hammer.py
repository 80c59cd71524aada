"""Hammer one user's rate limit from this process, then print how many requests
were admitted. test_processes.py runs two of these against the same Redis:

    python -m tests.limits.hammer PREFIX USER LIMIT

It prints "ready" once set up, then reads a start time (epoch seconds) from stdin,
so both processes start at the same instant; each keeps going until it has been
refused REFUSALS times (the limit is surely reached), however slow the machine.
"""

import asyncio
import json
import os
import sys
import time

WORKERS = 25  # each process's requests in flight (redis-py's pool holds 100)
REFUSALS = 100
GIVE_UP_SECONDS = 60


async def hammer(user: str, limit: int) -> dict:
    from chat.errors import RateLimited
    from chat.limits import Policy, RateRule, admit

    policy = Policy(rate_rules=(RateRule(limit, 60),), max_concurrent=10**6)
    counts = {"admitted": 0, "refused": 0}

    async def worker(until: float) -> None:
        while counts["refused"] < REFUSALS and time.time() < until:
            try:
                admission = await admit(
                    user=user,
                    endpoint="hammer",
                    estimated_input_tokens=1,
                    reply_cap_tokens=1,
                    policy=policy,
                    wait_upstream=False,
                )
            except RateLimited:
                counts["refused"] += 1
                continue
            counts["admitted"] += 1
            await admission.settle()

    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = float(line)
    await asyncio.sleep(max(0.0, start - time.time()))
    await asyncio.gather(*(worker(start + GIVE_UP_SECONDS) for _ in range(WORKERS)))
    return counts


def main() -> None:
    prefix, user, limit = sys.argv[1:4]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.CHAT_LIMITS_KEY_PREFIX = prefix
    result = asyncio.run(hammer(user, int(limit)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
