"""A web dyno on one machine: the Procfile's `web` command started by honcho, as
`honcho start web` would in development or a platform's process manager would in
production, on a port of its own.

honcho runs the command through `sh -c` in a new session, so the web process has a
process group of its own: the tests signal that group the way a platform signals a
dyno (SIGTERM, then SIGKILL after its grace period), and teardown kills both
groups, honcho's and the web's, whatever state the test left them in.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.deploy.slug import BIN, Slug, process_env
from tests.servers.deployment import (
    free_port,
    kill_group,
    launch,
    log_tail,
    signal_group,
    wait_healthy,
)

__all__ = ["Dyno", "free_port"]

START_TIMEOUT = 45.0
STARTED = re.compile(r"web\.1 started \(pid=(\d+)\)")


class Dyno:
    """One `honcho start web` on `port`, logging to `log_path`."""

    def __init__(self, slug: Slug, config: dict[str, str], log_dir: Path, name: str):
        self.slug = slug
        self.port = free_port()
        self.name = name
        # No CSRF_TRUSTED_ORIGINS: behind the router, same-origin posts pass.
        self.config = dict(config)
        self.log_path = log_dir / f"web-{name}.log"
        self.honcho: subprocess.Popen | None = None
        self.web_pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def launch(self) -> Dyno:
        """Start honcho without waiting (dynos boot in parallel)."""
        self.honcho = launch(
            [str(BIN / "honcho"), "--no-colour", "start", "-p", str(self.port), "web"],
            cwd=self.slug.root,
            env=process_env(self.config),
            log_path=self.log_path,
        )
        return self

    def wait_ready(self) -> Dyno:
        """Return once the web process answers /healthz."""
        assert self.honcho is not None
        wait_healthy(
            self.honcho,
            self.url,
            timeout=START_TIMEOUT,
            what=f"web {self.name}",
            log_path=self.log_path,
            ready=self._find_web_pid,
        )
        self._find_web_pid()
        assert self.web_pid is not None, "honcho did not report the pid"
        return self

    def _find_web_pid(self) -> None:
        if self.web_pid is None:
            found = STARTED.search(self.log_path.read_text(errors="replace"))
            self.web_pid = int(found.group(1)) if found else None

    def signal(self, number: int) -> None:
        """Send a signal to the web process group, as the platform does."""
        signal_group(self.web_pid, number)

    def signal_all(self, number: int) -> None:
        """Signal the web process group and honcho's."""
        self.signal(number)
        signal_group(self.honcho.pid if self.honcho else None, number)

    def web_alive(self) -> bool:
        """Whether anything of the web process group still runs."""
        if self.web_pid is None:
            return False
        try:
            os.killpg(self.web_pid, 0)
        except ProcessLookupError:
            return False
        # A zombie still counts as a member: look at the state.
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{self.web_pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] != "Z"
        return False

    def wait_web_exit(self, timeout: float) -> bool:
        """Whether the web process is gone within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.web_alive():
                return True
            time.sleep(0.1)
        return False

    def terminate(self) -> None:
        """SIGTERM the web process and honcho, as `heroku ps:stop` would."""
        self.signal_all(signal.SIGTERM)

    def wait_stopped(self, timeout: float) -> bool:
        """Whether honcho (and with it the web process) exited within `timeout`."""
        if self.honcho is None:
            return True
        try:
            self.honcho.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL both process groups, whatever state they are in, and reap."""
        signal_group(self.web_pid, signal.SIGKILL)
        kill_group(self.honcho)

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)
