"""Baseline (3): a minimal Starlette WebSocket, served by uvicorn, openai SDK.

BENCH_SOURCE=events swaps in astream_events for a like-for-like check of (2).
"""

from __future__ import annotations

import asyncio
import os

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.baselines import streams

SOURCE = streams.SOURCES[os.environ.get("BENCH_SOURCE", "openai")]


async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(streams.HELLO)
    tasks: set[asyncio.Task] = set()
    try:
        while True:
            text = await websocket.receive_text()
            task = asyncio.create_task(streams.reply(text, websocket.send_text, SOURCE))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()


application = Starlette(routes=[WebSocketRoute("/ws/chat/", chat)])
