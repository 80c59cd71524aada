"""The app's own settings for a benchmark run: everything on, limits out of reach.

chatproject.settings with one change: the per-user request rate is raised so that a
bench user sending a few messages a second is measured, not refused. The limiter,
the concurrency limit, guards, filters and records all still run on every turn.
"""

import os

from chatproject.settings import *  # noqa: F403

CHAT_RATE_LIMITS = ["100000/1m"]

# While chat/ has no migration files yet, let `migrate --run-syncdb` create its
# tables straight from the models (bench databases are throwaway).
_migrations = BASE_DIR / "chat" / "migrations"  # noqa: F405
if not any(p.name[0].isdigit() for p in _migrations.glob("*.py")):
    MIGRATION_MODULES = {"chat": None}

# Experiments (off by default, so a run measures the app as configured):
# BENCH_SQLITE_WAL=1 opens SQLite in WAL mode with synchronous=NORMAL.
if os.environ.get("BENCH_SQLITE_WAL") == "1":
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (  # noqa: F405
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
# BENCH_GC_THRESHOLD=N raises the cyclic GC's first threshold to N (and freezes what
# start-up allocated): with hundreds of streams in flight, the default 700 runs a
# collection every few tokens over a large live heap.
if os.environ.get("BENCH_GC_THRESHOLD"):
    import gc

    gc.freeze()
    gc.set_threshold(int(os.environ["BENCH_GC_THRESHOLD"]), 20, 20)
