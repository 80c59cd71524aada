"""The HTTP client under the openai SDK for provider streams: aiohttp rather than
httpx, one session per event loop.

aiohttp parses the response in C: reading a streamed chunk through the SDK cost
about 20 µs less CPU than on httpx (90 against 111 µs per token,
`bench/stream_path.py`), about a fifth of the SDK's cost per token. The chat
model is built once per configuration (chat/llm/chat_models.py) while an aiohttp
session belongs to the loop it was made in, so the transport keeps a session per
loop: one in a server process, one per test in the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import httpx2
import openai
from openai._vendor.httpx_aiohttp import AiohttpTransport


class PerLoopAiohttpTransport(httpx2.AsyncBaseTransport):
    """httpx's transport interface over an aiohttp session of the running loop."""

    def __init__(self, **options) -> None:
        self._options = options
        self._by_loop: dict[asyncio.AbstractEventLoop, AiohttpTransport] = {}

    def _transport(self) -> AiohttpTransport:
        loop = asyncio.get_running_loop()
        transport = self._by_loop.get(loop)
        if transport is None:
            self._forget_closed_loops()
            transport = self._by_loop[loop] = AiohttpTransport(**self._options)
        return transport

    def _forget_closed_loops(self) -> None:
        """Drop the sessions of loops that have closed (tests run one loop each),
        closing their sockets now: left to the garbage collector, aiohttp reports
        each as unclosed through a loop that no longer runs."""
        for loop in [loop for loop in self._by_loop if loop.is_closed()]:
            session = self._by_loop.pop(loop).client
            if isinstance(session, aiohttp.ClientSession):
                connector = session.connector
                session.detach()
                if connector is not None:
                    with contextlib.suppress(Exception):
                        connector._close(abort_ssl=True)  # sync; close() needs a loop

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._transport().handle_async_request(request)

    async def aclose(self) -> None:
        transport = self._by_loop.pop(asyncio.get_running_loop(), None)
        if transport is not None:
            await transport.aclose()


def provider_http_client() -> httpx2.AsyncClient:
    """An async client with the SDK's defaults (limits, redirects) on aiohttp."""
    return openai.DefaultAsyncHttpxClient(
        transport=PerLoopAiohttpTransport(limits=openai.DEFAULT_CONNECTION_LIMITS)
    )
