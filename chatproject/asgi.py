"""ASGI entry point: HTTP through Django, WebSockets through Channels with session
authentication and an Origin check (scheme, host and port)."""

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
from channels.security.websocket import WebsocketDenier  # noqa: E402

from chat.guards.origin import origin_allowed  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.shutdown import install_on_daphne, lifespan  # noqa: E402
from chat.upload_limit import ImportSizeLimit  # noqa: E402


class SiteOriginValidator:
    """Refuses a socket whose Origin's scheme, host and port are not an allowed
    origin (chat/guards/origin.py), reading the settings per connection."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": ImportSizeLimit(django_asgi_app),
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
