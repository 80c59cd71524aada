"""The `python` tool: code the model writes runs in Monty (`pydantic-monty`).

Monty is a Python interpreter written in Rust that exposes no host capability the
host does not hand it: no `os`, `subprocess`, `socket` or `ctypes` modules, no
environment, no network, and a file system that is only what is mounted. It runs in
a worker subprocess, so a crash in it cannot take the server down. Each run gets a
fresh pool with one worker that serves one session and is then discarded, and a
fresh scratch directory (mounted at /scratch) deleted afterwards: nothing is shared
between users or turns. Limits (execution time, heap, printed output, bytes written)
are enforced inside the worker, with the pool's request timeout killing a worker
that stops answering; workers start without the server's environment. The threat
model is in docs/tools.md.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from pydantic_monty import (
    AsyncMonty,
    MontyCrashedError,
    MontyError,
    MontyRuntimeError,
    MontySyntaxError,
    MountDir,
)

from chat.tools.errors import ToolError

__all__ = ["Artefact", "SandboxRun", "run_python"]

SCRATCH = "/scratch"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_ARTEFACTS = 4
# Seconds the pool may take beyond the execution limit before it kills the worker.
_WATCHDOG_SLACK = 5.0


@dataclass(frozen=True)
class Artefact:
    """A file the code wrote to /scratch that passed validation (PNG only)."""

    name: str
    data: bytes
    content_type: str = "image/png"


@dataclass
class SandboxRun:
    """What a run printed, the value of its last expression, and its artefacts."""

    output: str
    value: str | None
    artefacts: list[Artefact] = field(default_factory=list)

    def as_text(self) -> str:
        """The result as the model reads it."""
        parts = [self.output.rstrip("\n")] if self.output else []
        if self.value is not None:
            parts.append(self.value)
        parts += [f"[file {a.name}, {len(a.data)} bytes PNG]" for a in self.artefacts]
        return "\n".join(parts) or "(no output)"


class _Printed:
    """Collects printed text up to a byte limit; past it, raises in the sandbox."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.overflow = False

    def __call__(self, stream: str, text: str) -> None:
        size = len(text.encode())
        if self.overflow or self.size + size > self.limit:
            self.overflow = True
            raise OverflowError("output limit reached")
        self.parts.append(text)
        self.size += size

    @property
    def text(self) -> str:
        return "".join(self.parts)


async def run_python(code: str) -> SandboxRun:
    """Run `code` in a fresh sandbox; raise `ToolError` for any failure."""
    seconds = settings.CHAT_PYTHON_TIME_SECONDS
    printed = _Printed(settings.CHAT_PYTHON_OUTPUT_BYTES)
    limits = {
        "max_feed_duration_secs": seconds,
        "max_memory": settings.CHAT_PYTHON_MEMORY_BYTES,
        "max_recursion_depth": 200,
        "max_suspensions": 100,
    }
    with tempfile.TemporaryDirectory(prefix="chat-sandbox-") as scratch:
        mount = MountDir(
            host_path=scratch,
            virtual_path=SCRATCH,
            mode="read-write",
            write_bytes_limit=settings.CHAT_PYTHON_SCRATCH_BYTES,
        )
        try:
            async with AsyncMonty(
                min_processes=1,
                max_processes=1,
                max_checkouts_per_worker=1,
                checkout_timeout=seconds + _WATCHDOG_SLACK,
                request_timeout=seconds + _WATCHDOG_SLACK,
            ) as pool:
                async with pool.checkout(
                    limits=limits, os_policy={"sleep": "zero"}
                ) as session:
                    value = await session.feed_run(
                        code, print_callback=printed, mount=mount, cwd=SCRATCH
                    )
        except MontySyntaxError as exc:
            raise ToolError("syntax", exc.display(format="type-msg")) from None
        except MontyRuntimeError as exc:
            raise _runtime_error(exc, printed) from None
        except MontyCrashedError as exc:
            if exc.timed_out:
                raise ToolError("timeout", "The code ran out of time.") from None
            raise ToolError("crashed", "The sandbox stopped unexpectedly.") from None
        except MontyError as exc:
            raise ToolError("sandbox", type(exc).__name__) from None
        finally:
            mount.close()
        artefacts = _artefacts(Path(scratch))
    shown = None if value is None else _repr(value)
    return SandboxRun(output=printed.text, value=shown, artefacts=artefacts)


def _runtime_error(exc: MontyRuntimeError, printed: _Printed) -> ToolError:
    """Map an error raised inside the sandbox to a tool error with a stable code."""
    message = exc.display(format="type-msg")
    kind = message.split(":", 1)[0]
    if printed.overflow:
        return ToolError("output_limit", "The code printed more than allowed.")
    if kind == "TimeoutError" and "time limit" in message:
        return ToolError("timeout", "The code ran out of time.")
    if kind == "MemoryError":
        return ToolError("memory_limit", "The code used more memory than allowed.")
    return ToolError("python_error", message[:2000])


def _repr(value: object) -> str:
    """The last expression's value, bounded like printed output."""
    text = value if isinstance(value, str) else repr(value)
    return text[: settings.CHAT_PYTHON_OUTPUT_BYTES]


def _artefacts(scratch: Path) -> list[Artefact]:
    """PNG files the code left in /scratch, each checked chunk by chunk; other
    files and anything that is not a well-formed PNG are ignored."""
    found = []
    for path in sorted(scratch.iterdir()):
        if len(found) >= MAX_ARTEFACTS:
            break
        if path.is_symlink() or not path.is_file() or path.suffix != ".png":
            continue
        data = path.read_bytes()
        if is_png(data):
            found.append(Artefact(name=path.name, data=data))
    return found


def is_png(data: bytes) -> bool:
    """Whether `data` is a structurally valid PNG: signature, IHDR first, every
    chunk's CRC right, IEND last with nothing after it."""
    if not data.startswith(PNG_SIGNATURE):
        return False
    at, first = len(PNG_SIGNATURE), True
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        crc = data[at + 8 + length : at + 12 + length]
        if len(body) != length or len(crc) != 4:
            return False
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            return False
        if first and kind != b"IHDR":
            return False
        first = False
        at += 12 + length
        if kind == b"IEND":
            return at == len(data)
    return False
