"""daphne on uvloop: the event loop policy is set before daphne creates its
loop (daphne/server.py makes it at import). Arguments are daphne's."""

import asyncio
import sys

import uvloop

asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

from daphne.cli import CommandLineInterface  # noqa: E402

if __name__ == "__main__":
    sys.exit(CommandLineInterface.entrypoint())
