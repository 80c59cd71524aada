"""Which server process holds which connection, read from /proc as `ss -tnp`
would: the tests see how the kernel spread sockets over a dyno's processes."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path

ESTABLISHED = "01"


def children(pid: int) -> list[int]:
    """The processes `pid` started (the supervisor's web processes)."""
    with contextlib.suppress(OSError):
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in text.split()]
    return []


def _server_sockets(port: int) -> dict[int, int]:
    """Socket inode -> client port, for established connections to `port`."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if state == ESTABLISHED and int(local.rsplit(":", 1)[1], 16) == port:
                    found[int(inode)] = int(remote.rsplit(":", 1)[1], 16)
    return found


def _inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
    return inodes


def holders(port: int, pids: list[int]) -> dict[int, int]:
    """Client port -> the pid (of `pids`) holding the server side of it."""
    sockets = _server_sockets(port)
    held = {}
    for pid in pids:
        for inode in _inodes(pid) & sockets.keys():
            held[sockets[inode]] = pid
    return held


def spread(port: int, pids: list[int]) -> Counter:
    """Established connections to `port` per process."""
    counts = Counter(holders(port, pids).values())
    return Counter({pid: counts.get(pid, 0) for pid in pids})


def holder_of(ws, port: int, pids: list[int]) -> int | None:
    """The process serving a client WebSocket."""
    return holders(port, pids).get(ws.local_address[1])
