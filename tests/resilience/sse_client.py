"""A minimal Server-Sent Events reader, as any client library would parse the
stream: blank-line separated events of `field: value` lines, comments ignored."""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    name: str
    id: str | None
    data: dict


class EventParser:
    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, text: str) -> list[Event]:
        self.buffer += text.replace("\r\n", "\n")
        events = []
        while "\n\n" in self.buffer:
            block, self.buffer = self.buffer.split("\n\n", 1)
            fields: dict[str, str] = {}
            data: list[str] = []
            for line in block.split("\n"):
                if not line or line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
            if data:
                events.append(
                    Event(
                        fields.get("event", "message"),
                        fields.get("id"),
                        json.loads("\n".join(data)),
                    )
                )
        return events


async def events_of(chunks: AsyncIterable[bytes | str]) -> AsyncIterator[Event]:
    """Events from a byte stream (an httpx response, Django's streaming content)."""
    parser = EventParser()
    decoder = codecs.getincrementaldecoder("utf-8")()
    async for chunk in chunks:
        text = decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        for event in parser.feed(text):
            yield event


def text_of(events: list[Event]) -> str:
    return "".join(e.data["text"] for e in events if e.name == "delta")
