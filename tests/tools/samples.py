"""Things the tool tests share: a real PNG, the test MCP server's path, a
tool-capable catalogue entry."""

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MCP_SERVER = str(Path(__file__).with_name("mcp_server.py"))


@dataclass
class Entry:
    """The two fields of a catalogue model the tool policy reads."""

    name: str
    tools: bool


CAPABLE = Entry("tool-model", True)


def png(width: int = 1, height: int = 1) -> bytes:
    """A small valid grey PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress((b"\x00" + b"\x7f" * width) * height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
