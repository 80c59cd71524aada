"""daphne on uvloop, as `bin/web` runs it: `python -m chatproject.daphne_uvloop`
takes daphne's own arguments.

daphne creates its event loop when `daphne.server` is imported (Twisted's
asyncio reactor runs on it), so the policy must be set before that import. On
uvloop the app used about 10% less CPU per streamed token than on asyncio's loop
(bench/README.md, "Issue 22"): Twisted reads the client sockets itself, but the
provider streams (aiohttp), Redis and every task and timer run on the loop.
"""

import asyncio
import sys

import uvloop

asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

from daphne.cli import CommandLineInterface  # noqa: E402

if __name__ == "__main__":
    sys.exit(CommandLineInterface.entrypoint())
