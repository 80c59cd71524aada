"""daphne's access log as log records, so its lines go through the app's handler
(chatproject/settings.py LOGGING): one JSON object each, with secrets in URL paths
(password-reset and confirmation keys, invitation links) redacted by
chat.logs.RedactSecretsFilter. daphne's own generator writes raw lines to stdout.
"""

from __future__ import annotations

import logging

from daphne.access import AccessLogGenerator

log = logging.getLogger("daphne.access")


class AccessLog(AccessLogGenerator):
    def __init__(self) -> None:
        super().__init__(stream=None)

    def write_entry(
        self, host, date, request, status=None, length=None, ident=None, user=None
    ) -> None:
        log.info(
            '%s "%s" %s %s',
            host,
            request,
            status or "-",
            length or "-",
            extra={"client": host, "status": status},
        )
