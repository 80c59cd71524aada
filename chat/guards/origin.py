"""The WebSocket Origin check: scheme, host and port must all match an allowed
origin, so a page on another port or scheme of an allowed host cannot open a
socket with the user's session cookie.

An origin is allowed when it is listed in CSRF_TRUSTED_ORIGINS (scheme, host and
port, `*.` for subdomains, as Django's CSRF check reads it), or when it is
the site itself: its host is in ALLOWED_HOSTS and its scheme, host and port are
those the browser used to reach the socket (the Host header, and `wss` or the
proxy's SECURE_PROXY_SSL_HEADER for https).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.http.request import is_same_domain, split_domain_port

__all__ = ["origin_allowed"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_allowed(scope: dict) -> bool:
    """Whether the socket's Origin header names an origin this site trusts."""
    headers = _headers(scope)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    raw = headers.get("origin")
    if raw is None:
        return "*" in allowed_hosts
    origin = _parse(raw)
    if origin is None:
        return False
    if any(_same(origin, trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS):
        return True
    if not any(
        pattern == "*" or is_same_domain(origin.hostname, pattern)
        for pattern in allowed_hosts
    ):
        return False
    host, port = split_domain_port(headers.get("host", ""))
    scheme = _site_scheme(scope, headers)
    return (
        origin.scheme == scheme
        and origin.hostname == host.strip("[]").lower()
        and _port(origin) == (int(port) if port else _DEFAULT_PORTS[scheme])
    )


def _headers(scope: dict) -> dict[str, str]:
    return {
        name.decode("latin1").lower(): value.decode("latin1")
        for name, value in scope.get("headers", [])
    }


def _parse(value: str) -> SplitResult | None:
    try:
        parsed = urlsplit(value.strip().lower())
        parsed.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    return parsed


def _port(parsed: SplitResult) -> int:
    return parsed.port or _DEFAULT_PORTS[parsed.scheme]


def _same(origin: SplitResult, trusted: str) -> bool:
    """Django's CSRF_TRUSTED_ORIGINS form: `https://*.example.com` for subdomains."""
    wildcard = "://*." in trusted or "://." in trusted
    pattern = _parse(trusted.replace("://*.", "://").replace("://.", "://"))
    if pattern is None or pattern.scheme != origin.scheme:
        return False
    if _port(pattern) != _port(origin):
        return False
    if wildcard:
        return is_same_domain(origin.hostname, "." + pattern.hostname)
    return origin.hostname == pattern.hostname


def _site_scheme(scope: dict, headers: dict[str, str]) -> str:
    if scope.get("scheme") == "wss":
        return "https"
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name, value = proxy
        name = name.removeprefix("HTTP_").replace("_", "-").lower()
        if headers.get(name, "").split(",")[0].strip() == value:
            return "https"
    return "http"
