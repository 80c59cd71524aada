"""What a Procfile platform does before it starts a web process: build a copy of the
app (the slug) with its static files collected, read the Procfile, and give the
processes only their config vars. The platform's own services are stood in for by
loopback PostgreSQL and Redis.

The slug is a copy of the working tree (tracked and untracked files, minus what
.gitignore excludes, like `git push` would send once committed), so collectstatic
writes into the copy and other work in the tree is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import deployment
from tests.servers.deployment import Database

__all__ = ["Database", "Slug", "config_vars", "procfile", "process_env"]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# A Redis database of its own: user ids restart at 1 in every fresh PostgreSQL
# database, so per-user keys (sockets, limits) must not meet other suites' keys.
REDIS_DB = int(os.environ.get("DEPLOY_REDIS_DB", "12"))
REDIS_URL = deployment.redis_url(REDIS_DB)
BUILD_TIMEOUT = 120.0


def procfile(path: Path) -> dict[str, str]:
    """Process types and their commands, as a platform reads the Procfile."""
    types = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            types[name.strip()] = command.strip()
    return types


def config_vars(database_url: str, openai_base_url: str, **extra: object) -> dict:
    """Production settings, as `heroku config:set` would give them."""
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "OPENAI_BASE_URL": openai_base_url,
        "OPENAI_API_KEY": "test",
        "LLM_MODEL": "gpt-4o-mini",
        # A model-made title is one more request to the model server per new
        # conversation; these tests count the requests their turns make.
        "CHAT_TITLES": "0",
    }
    env.update({name: str(value) for name, value in extra.items()})
    return env


def process_env(config: dict[str, str]) -> dict[str, str]:
    """What a dyno sees: its config vars and a PATH to the built app, nothing of
    this test run (whose settings module and SECRET_KEY are the suite's own)."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    # The Python buildpack sets this, so logs reach the platform at once.
    env["PYTHONUNBUFFERED"] = "1"
    env.update(config)
    return env


class Slug:
    """A copy of the app in `root`, as the platform's build receives it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def copy(cls, root: Path) -> Slug:
        """The app's files: tracked and untracked, minus what .gitignore names."""
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        for name in filter(None, (item.decode() for item in listed)):
            source = REPO / name
            if source.is_file():  # tracked files being deleted are skipped
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return cls(root)

    @property
    def processes(self) -> dict[str, str]:
        return procfile(self.root / "Procfile")

    def deploy(self, config: dict[str, str]) -> None:
        """The build step (collectstatic, as the Python buildpack runs it) and the
        Procfile's release phase. A platform runs them one after the other; they
        touch different things (files, the database), so here they overlap, which
        halves the wait on a busy machine."""
        steps = ["python manage.py collectstatic --noinput", self.processes["release"]]
        started = [(command, self.start(command, config)) for command in steps]
        for command, process in started:
            self.finish(command, process)

    def run(self, command: str, config: dict[str, str], **extra: str) -> str:
        """A one-off command in the slug (`heroku run`); its output."""
        return self.finish(command, self.start(command, config, **extra))

    def start(
        self, command: str, config: dict[str, str], **extra: str
    ) -> subprocess.Popen:
        env = process_env({**config, **extra})
        process = subprocess.Popen(
            ["sh", "-c", command],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return process

    def finish(self, command: str, process: subprocess.Popen) -> str:
        """Its output once it exits; an error with its output if it fails."""
        try:
            out, err = process.communicate(timeout=BUILD_TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process.returncode:
            raise RuntimeError(
                f"`{command}` failed ({process.returncode}):\n{out}\n{err}"
            )
        return out

    def manifest(self) -> dict[str, str]:
        """Static file names and their hashed names, from the build."""
        data = json.loads((self.root / "staticfiles" / "staticfiles.json").read_text())
        return data["paths"]
