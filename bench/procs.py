"""Child processes of a run, pinned to cores, and what /proc says about them."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
# Nice value of the bench's own processes (server, endpoint, load generator).
PRIORITY = -10


def tree(pid: int) -> list[int]:
    """A process and every process below it (a supervisor's server processes)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as f:
                todo.extend(int(child) for child in f.read().split())
        except OSError:
            pass
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of every thread of a process and the processes below
    it, from /proc/<pid>/stat."""
    total = 0.0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                # The command name may contain spaces; fields after its ')' are fixed.
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def core_busy_seconds() -> dict[int, float]:
    """Busy CPU seconds per core since boot, from /proc/stat (all processes)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *ticks = line.split()
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(
                    int, ticks[:8]
                )
                busy = user + nice + system + irq + softirq + steal
                out[int(name[3:])] = busy / _TICK
    return out


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds per thread of a process, keyed "tid name"."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            with open(task / "stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[f"{task.name} {name}"] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


def rss_bytes(pid: int) -> int:
    """Resident memory (VmRSS) of a process and the processes below it."""
    total = 0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_priority() -> None:
    """Ahead of whatever else runs on a shared machine (root only; best effort).

    With autogroup scheduling a nice value only ranks threads within one session's
    group, so the group's own nice (/proc/self/autogroup) is set as well.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)
    except OSError:
        pass
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(PRIORITY))
    except OSError:
        pass


def _limits(cpu: int | None):
    def setup() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        raise_priority()

    return setup


class Child:
    """A process started in its own group, always ended by stop()."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cpu: int | None,
        log: Path,
        cwd: Path,
    ) -> None:
        self.argv = argv
        self.log_path = log
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_limits(cpu),
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, limit: int = 3000) -> str:
        self._log.flush()
        data = self.log_path.read_bytes()
        return data[-limit:].decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 8.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()


def wait_port(port: int, child: Child, within: float = 60.0) -> None:
    """Until something accepts TCP on the port; raise with the log if the child dies."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.argv[0]} exited:\n{child.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not open after {within}s:\n{child.tail()}")


def wait_json_line(child: Child, within: float = 20.0) -> dict:
    """The first line the child printed, as JSON (the endpoint prints its port)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        text = child.log_path.read_text() if child.log_path.exists() else ""
        if text.strip():
            return json.loads(text.splitlines()[0])
        if not child.alive():
            raise RuntimeError(f"child exited:\n{child.tail()}")
        time.sleep(0.05)
    raise RuntimeError("child printed nothing")
