"""daphne on uvloop, as `bin/web` runs it: `python -m chatproject.daphne_uvloop`
takes daphne's own arguments.

daphne creates its event loop when `daphne.server` is imported (Twisted's
asyncio reactor runs on it), so the policy must be set before that import. On
uvloop the app used about 10% less CPU per streamed token than on asyncio's loop
(bench/README.md, "Issue 22"): Twisted reads the client sockets itself, but the
provider streams (aiohttp), Redis and every task and timer run on the loop.

Its access log goes through logging (chatproject/access_log.py), not raw to stdout.
"""

import asyncio
import sys

import uvloop

asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.server import Server  # noqa: E402

from chatproject.access_log import AccessLog  # noqa: E402


class LoggedServer(Server):
    def __init__(self, *args, action_logger=None, **kwargs) -> None:
        # daphne makes an access log writing to stdout unless verbosity is 0.
        super().__init__(
            *args, action_logger=AccessLog() if action_logger else None, **kwargs
        )


class Daphne(CommandLineInterface):
    server_class = LoggedServer


if __name__ == "__main__":
    sys.exit(Daphne.entrypoint())
