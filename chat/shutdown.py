"""Graceful shutdown on SIGTERM, within the platform's grace period, under daphne
or uvicorn.

Platforms stop a process with SIGTERM and kill it a while later (Heroku: 30 s).
Daphne's own handler (Twisted's) stops at once, and uvicorn's closes every socket
first: either way replies in flight die with the process and stay `streaming`
until a sweep. Here, instead: stop accepting connections, let replies in flight
finish for up to CHAT_SHUTDOWN_GRACE_SECONDS, store the rest as `interrupted`
(billed for what they produced), make sure every end reaches the reply hub
(followers on other processes see it), close sockets with 4012 ("server
restarting": the page reconnects and joins), then let the server stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable

from django.conf import settings

from chat.delivery import get_hub

log = logging.getLogger("chat.shutdown")

# Longest wait for interrupted replies to be stored, and for sockets to close.
STORE_SECONDS = 5.0
CLOSE_SECONDS = 2.0
# How long a socket waits for the replies it follows to end before it is closed.
FOLLOW_SECONDS = 1.0

_replies: set[asyncio.Task] = set()
_interrupted: set[asyncio.Task] = set()
_sockets: set = set()
_draining = False
_drain_task: asyncio.Task | None = None
# Set once the last socket has gone, while draining.
_all_closed: asyncio.Event | None = None


def draining() -> bool:
    """Whether this process is shutting down (new sockets are turned away)."""
    return _draining


def track_reply(task: asyncio.Task) -> None:
    """Count a reply generating in this process until its task ends."""
    _replies.add(task)
    task.add_done_callback(_replies.discard)


def interrupted(task: asyncio.Task | None) -> bool:
    """Whether the shutdown (rather than a user's stop) cancelled this reply."""
    return task in _interrupted


def socket_opened(consumer) -> None:
    _sockets.add(consumer)


def socket_closed(consumer) -> None:
    _sockets.discard(consumer)
    if not _sockets and _all_closed is not None:
        _all_closed.set()


def install_on_daphne() -> None:
    """Under daphne, drain on SIGTERM instead of stopping at once. Twisted installs
    its own handlers as the reactor starts, so ours goes in right after."""
    if "twisted.internet.reactor" not in sys.modules:
        return  # not daphne (or not yet): leave the server's handling alone
    from twisted.internet import reactor

    reactor.callWhenRunning(_install_daphne, reactor)


def _install_daphne(reactor) -> None:
    def on_sigterm(signum, frame) -> None:
        # A signal handler may only schedule; Twisted's own does the same.
        reactor.callFromThread(_begin, lambda: _stop_listening(reactor), reactor.stop)

    signal.signal(signal.SIGTERM, on_sigterm)


def install_on_uvicorn() -> None:
    """Under uvicorn (at lifespan start-up, after it has set its handlers): drain
    first on SIGTERM, then hand the signal to uvicorn's own handler, which stops
    the server. New sockets are turned away meanwhile (`draining`)."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return  # no server handler to hand over to
    loop = asyncio.get_running_loop()

    def on_sigterm(signum, frame) -> None:
        loop.call_soon_threadsafe(_begin, None, lambda: previous(signum, frame))

    signal.signal(signal.SIGTERM, on_sigterm)


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol (uvicorn; daphne does not speak it)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            install_on_uvicorn()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _begin(stop_listening: Callable[[], None] | None, stop: Callable[[], None]) -> None:
    global _draining, _drain_task
    if _draining:
        return  # a second SIGTERM changes nothing; the platform's SIGKILL will
    _draining = True
    _drain_task = asyncio.ensure_future(_drain(stop_listening, stop))


async def _drain(
    stop_listening: Callable[[], None] | None, stop: Callable[[], None]
) -> None:
    global _all_closed
    grace = settings.CHAT_SHUTDOWN_GRACE_SECONDS
    try:
        if stop_listening is not None:
            stop_listening()
        running = {task for task in _replies if not task.done()}
        log.warning(
            "SIGTERM: draining %d replies and %d sockets for up to %ss",
            len(running),
            len(_sockets),
            grace,
        )
        if running:
            await asyncio.wait(running, timeout=grace)
        left = {task for task in _replies if not task.done()}
        for task in left:
            _interrupted.add(task)
            task.cancel()
        if left:
            log.warning("SIGTERM: %d replies interrupted", len(left))
            await asyncio.wait(left, timeout=STORE_SECONDS)
        await get_hub().flush(within=STORE_SECONDS)
        _all_closed = asyncio.Event()
        if not _sockets:
            _all_closed.set()
        results = await asyncio.gather(
            *(consumer.server_restarting(FOLLOW_SECONDS) for consumer in _sockets),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("closing a socket failed", exc_info=result)
        # The close handshakes, so the 4012 frames are on the wire before we stop.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_all_closed.wait(), CLOSE_SECONDS)
    except Exception:
        log.exception("graceful shutdown failed; stopping now")
    finally:
        stop()


def _stop_listening(reactor) -> None:
    """Refuse new connections (the router sends them to other processes)."""
    from twisted.internet.tcp import Port

    for reader in reactor.getReaders():
        if isinstance(reader, Port):
            reader.stopListening()
