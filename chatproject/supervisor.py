"""Every core of a dyno: N server processes on the one `$PORT` (docs/deploy.md,
"Processes per dyno").

`bin/web` runs `python -m chatproject.supervisor -- daphne --fd {fd} ...`. The
supervisor binds the port once per process (SO_REUSEPORT, so the kernel spreads
connections evenly; see `listen`) and starts `WEB_CONCURRENCY` copies of the
command, each with its socket's descriptor in place of `{fd}`. It keeps every
socket open, so a process that dies is replaced on the same socket and the
connections queued there wait for it rather than being refused. SIGTERM (or
SIGINT) is passed on to every process, each drains its own replies
(chat/shutdown.py), and the supervisor exits once all have. A process that dies
otherwise is started again; its replies in flight end `interrupted` through the
processes left (their followers see the generator's heartbeat lapse, and the
sweeper stores it).

With one process (`WEB_CONCURRENCY=1`, a one-core dyno, or the embedded default
without `REDIS_URL`, where replies and limits live in the process) the supervisor
does not stay in between: it execs the command on the bound socket.

This module is the process manager, not the app: it reads the platform's
variables (`PORT`, `WEB_CONCURRENCY`, whether `REDIS_URL` is set) from the
environment and never imports Django, so it costs a few MiB beside the servers.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

log = logging.getLogger("chat.supervisor")

# Memory a server process needs with room for its sockets: one process per this
# much of the dyno's memory, at most one per usable core.
MEMORY_PER_PROCESS = 512 * 1024 * 1024
# A process that exits sooner than this after its start failed to start; after
# this many such failures in a row the supervisor gives up (the app is broken).
START_SECONDS = 10.0
MAX_START_FAILURES = 5
BACKLOG = 2048
PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_WATCHED = (*_STOP_SIGNALS, signal.SIGCHLD)


def memory_limit() -> int | None:
    """Bytes of memory this dyno may use: its cgroup's limit, else the machine's."""
    for path in (
        "/sys/fs/cgroup/memory.max",  # cgroup v2
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
    ):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max" or huge: no limit
            return int(text)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def default_count() -> int:
    """Usable cores (the CPU affinity, which containers narrow), capped by memory."""
    cores = len(os.sched_getaffinity(0))
    memory = memory_limit()
    by_memory = memory // MEMORY_PER_PROCESS if memory else cores
    return max(1, min(cores, by_memory))


def process_count(environ: dict[str, str]) -> tuple[int, str]:
    """How many server processes to run, and why (logged at start)."""
    if not environ.get("REDIS_URL"):
        return 1, (
            "REDIS_URL is not set: one web process, since replies, sockets and "
            "limits would not be shared between processes (set REDIS_URL to use "
            "every core)"
        )
    configured = environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise SystemExit(
                f"WEB_CONCURRENCY must be a whole number of processes, "
                f"not {configured!r}"
            )
        return int(configured), "WEB_CONCURRENCY"
    count = default_count()
    return count, (
        f"{len(os.sched_getaffinity(0))} usable cores, one process per "
        f"{MEMORY_PER_PROCESS >> 20} MiB of memory (WEB_CONCURRENCY overrides)"
    )


def listen(host: str, port: int, count: int) -> list[socket.socket]:
    """The dyno's listening sockets, one per server process, all on one port
    (SO_REUSEPORT): the kernel spreads new connections over them by a hash of
    each connection's addresses. One shared socket would not spread them: every
    process wakes for a new connection and the first to run accepts everything
    waiting, so a burst of sockets lands on one process (bench/README.md)."""
    sockets = []
    for _ in range(count):
        sock = socket.create_server((host, port), backlog=BACKLOG, reuse_port=count > 1)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def command_for(template: Sequence[str], fd: int) -> list[str]:
    return [part.replace("{fd}", str(fd)) for part in template]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM (a drain) if the supervisor dies, and
    the signals the supervisor blocks for itself unblocked again."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """A copy of a server command per listening socket. The supervisor keeps the
    sockets open, so connections queued on a process that dies wait for its
    replacement instead of being refused."""

    def __init__(self, command: list[str], sockets: list[socket.socket]):
        self.command = command
        self.sockets = sockets
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)
        self.stopping = False
        self.start_failures = 0

    def run(self) -> int:
        signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        for slot in range(len(self.sockets)):
            self.spawn(slot)
        while self.children:
            info = signal.sigtimedwait(_WATCHED, 1.0)
            if info is not None and info.si_signo in _STOP_SIGNALS:
                self.stop(info.si_signo)
            self.reap()
        log.info("all web processes have exited")
        return 0 if self.start_failures < MAX_START_FAILURES else 1

    def spawn(self, slot: int) -> None:
        fd = self.sockets[slot].fileno()
        child = subprocess.Popen(
            command_for(self.command, fd), pass_fds=(fd,), preexec_fn=_die_with_parent
        )
        self.children[child.pid] = (slot, time.monotonic())
        log.info("web process %d started", child.pid)

    def stop(self, signum: int) -> None:
        """Pass the stop on to every process; each drains, then exits."""
        if not self.stopping:
            log.warning(
                "%s: draining %d web processes",
                signal.Signals(signum).name,
                len(self.children),
            )
        self.stopping = True
        for sock in self.sockets:
            sock.close()  # ours only: the processes keep theirs until they drain
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        """Collect exited processes; replace them unless stopping."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            slot, started = self.children.pop(pid, (None, 0.0))
            if slot is None:
                continue
            if self.stopping:
                log.info("web process %d exited (%s)", pid, describe(status))
                continue
            log.error(
                "web process %d died (%s); starting another", pid, describe(status)
            )
            if time.monotonic() - started < START_SECONDS:
                self.start_failures += 1
                if self.start_failures >= MAX_START_FAILURES:
                    log.error("web processes keep failing at start; stopping")
                    self.stop(signal.SIGTERM)
                    return
                time.sleep(min(2**self.start_failures * 0.25, 5.0))
            else:
                self.start_failures = 0
            self.spawn(slot)


def describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chatproject.supervisor",
        description="Run WEB_CONCURRENCY server processes on one port.",
    )
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a dyno)
    parser.add_argument("--port", type=int, default=None, help="default: $PORT")
    parser.add_argument(
        "--count", action="store_true", help="print the number of processes, exit"
    )
    parser.add_argument("command", nargs="*", help="the server; {fd} is the socket")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="supervisor: %(message)s"
    )
    count, why = process_count(dict(os.environ))
    if args.count:
        log.info("%d web process(es): %s", count, why)
        print(count)
        return 0
    if not args.command or not any("{fd}" in part for part in args.command):
        parser.error("give the server command, with {fd} where the socket goes")
    port = args.port if args.port is not None else int(os.environ.get("PORT", 8000))
    sockets = listen(args.host, port, count)
    log.info("%d web process(es) on %s:%d: %s", count, args.host, port, why)
    if count == 1:
        # Nothing to supervise: the server becomes this process (and gets the
        # platform's signals itself), on the socket bound here.
        argv = command_for(args.command, sockets[0].fileno())
        os.execvp(argv[0], argv)  # noqa: S606 (the server replaces us)
    return Supervisor(args.command, sockets).run()


if __name__ == "__main__":
    sys.exit(main())
