"""ASGI entry point: HTTP through Django, WebSockets through Channels with session
authentication and an Origin check against ALLOWED_HOSTS."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
django_asgi_app = get_asgi_application()

import gc  # noqa: E402

# Everything loaded so far lives as long as the process: keep it out of the cyclic
# collector, and collect young objects less often (about 30% of per-token CPU at 300
# streams, bench/README.md).
gc.freeze()
gc.set_threshold(50_000, 20, 20)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.shutdown import install_on_daphne, lifespan  # noqa: E402


class SiteOriginValidator(OriginValidator):
    """Channels' AllowedHostsOriginValidator, but reading ALLOWED_HOSTS per connection
    rather than at import, so the setting can change without a new application."""

    def __init__(self, application):
        super().__init__(application, [])

    def valid_origin(self, parsed_origin):
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = ["localhost", "127.0.0.1", "[::1]"]
        if parsed_origin is None:
            return "*" in allowed
        return any(
            pattern == "*" or self.match_allowed_origin(parsed_origin, pattern)
            for pattern in allowed
        )


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SiteOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
        # uvicorn's start-up, where the SIGTERM drain is installed.
        "lifespan": lifespan,
    }
)

# SIGTERM drains replies in flight instead of dropping them (chat/shutdown.py);
# under uvicorn this happens at lifespan start-up.
install_on_daphne()
