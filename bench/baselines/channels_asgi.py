"""Baselines (1) and (2): a bare Channels consumer, served by daphne or uvicorn.

BENCH_SOURCE=openai streams through the openai SDK (1); BENCH_SOURCE=events through
astream_events(version="v2") on the bare ChatOpenAI model (2). Each reply runs as its
own task, as in the app, so the consumer keeps reading frames while it streams.
"""

from __future__ import annotations

import asyncio
import os

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={},
        USE_TZ=True,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.baselines import streams  # noqa: E402

SOURCE = streams.SOURCES[os.environ.get("BENCH_SOURCE", "openai")]


class BareConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.tasks: set[asyncio.Task] = set()
        await self.accept()
        await self.send(text_data=streams.HELLO)

    async def disconnect(self, code: int) -> None:
        for task in self.tasks:
            task.cancel()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        task = asyncio.create_task(streams.reply(text_data, self._send, SOURCE))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, text: str) -> None:
        await self.send(text_data=text)


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/chat/", BareConsumer.as_asgi())])}
)
