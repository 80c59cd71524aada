"""The `web_fetch` tool: an HTTP(S) GET that cannot be turned against the server's
own network (SSRF).

Each hop's host is resolved once (numeric spellings such as 0x7f000001, 2130706433
or 0177.0.0.1 are decoded, not looked up); every address it resolves to must be
public, or the fetch is refused; the connection goes to the checked address (the
URL's host becomes the Host header and the TLS server name), so a second, different
DNS answer cannot be used. Redirects are followed by hand, each hop checked the same
way. Bodies are read up to a byte limit within one deadline for the whole fetch;
HTML is reduced to its text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from chat.tools.errors import ToolError

__all__ = ["FetchedPage", "check_address", "fetch_page", "html_text"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Prefixes that embed an IPv4 address which is checked in its own right.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/json")
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchedPage:
    """The text of a fetched page and where it came from after redirects."""

    url: str
    status: int
    content_type: str
    text: str
    truncated: bool


def check_address(ip: IPAddress, allowed: Iterable[Network] = ()) -> None:
    """Refuse any address that is not public: private, loopback, link-local (and
    so cloud metadata), shared, reserved, multicast, unspecified, and IPv6 forms
    that embed one (IPv4-mapped, NAT64, 6to4)."""
    if any(ip in network for network in allowed):
        return
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            check_address(embedded, allowed)
    if not ip.is_global or ip.is_multicast:
        raise ToolError("forbidden_address", f"Refusing to connect to {ip}.")


def _numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host spells, in any form the C library accepts
    (dotted, hex, octal, decimal, fewer than four parts), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise ToolError("invalid_url", "That address is not valid.") from None
    return None


async def _resolve(host: str, port: int, allowed: Iterable[Network]) -> IPAddress:
    """Resolve `host` once and check every address it has; return the first."""
    numeric = _numeric_host(host)
    if numeric is not None:
        addresses = [numeric]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise ToolError("dns", f"Could not resolve {host}.") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise ToolError("dns", f"Could not resolve {host}.")
    for address in addresses:
        check_address(address, allowed)
    return addresses[0]


def _split(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ToolError("invalid_url", "That URL is not valid.") from None
    if parts.scheme not in {"http", "https"}:
        raise ToolError("invalid_url", "Only http and https URLs can be fetched.")
    if parts.username is not None or parts.password is not None:
        raise ToolError("invalid_url", "URLs with credentials are not fetched.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ToolError("invalid_url", "The URL has no host.")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


async def fetch_page(url: str, *, allowed: Iterable[Network] = ()) -> FetchedPage:
    """GET `url` safely and return its text; raise `ToolError` for any refusal.
    `allowed` exempts networks from the address check (tests host a listener)."""
    allowed = tuple(allowed)
    try:
        async with asyncio.timeout(settings.CHAT_FETCH_TIMEOUT_SECONDS):
            return await _follow(url, allowed)
    except TimeoutError:
        raise ToolError("timeout", "The page took too long to load.") from None


async def _follow(url: str, allowed: tuple[Network, ...]) -> FetchedPage:
    """Fetch hop by hop, checking each redirect's target like the first URL."""
    async with httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=settings.CHAT_FETCH_TIMEOUT_SECONDS,
    ) as client:
        for _hop in range(settings.CHAT_FETCH_MAX_REDIRECTS + 1):
            scheme, host, port = _split(url)
            address = await _resolve(host, port, allowed)
            target = httpx.URL(url).copy_with(host=str(address), port=port)
            default = 443 if scheme == "https" else 80
            headers = {
                "Host": host if port == default else f"{host}:{port}",
                "Accept": ", ".join(_TEXT_TYPES),
                "Accept-Encoding": "identity",
                "User-Agent": "djchat-web-fetch",
            }
            request = client.build_request(
                "GET", target, headers=headers, extensions={"sni_hostname": host}
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError:
                raise ToolError(
                    "unreachable", f"Could not connect to {host}."
                ) from None
            try:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise ToolError("bad_redirect", "A redirect had no target.")
                    url = urljoin(url, location)
                    continue
                return await _page(url, response)
            finally:
                await response.aclose()
    raise ToolError("too_many_redirects", "The page redirected too many times.")


async def _page(url: str, response: httpx.Response) -> FetchedPage:
    """Read at most the byte limit of a text response and extract its text."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _TEXT_TYPES and not kind.startswith("text/"):
        raise ToolError(
            "unsupported", f"Content of type {kind or 'unknown'} is not read."
        )
    limit = settings.CHAT_FETCH_MAX_BYTES
    body, truncated = bytearray(), False
    try:
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                del body[limit:]
                truncated = True
                break
    except httpx.HTTPError:
        raise ToolError("unreachable", "The connection broke while reading.") from None
    if response.headers.get("content-encoding", "identity") not in {"identity", ""}:
        raise ToolError("unsupported", "Compressed responses are not read.")
    text = bytes(body).decode(response.charset_encoding or "utf-8", errors="replace")
    if kind in {"text/html", "application/xhtml+xml"}:
        text = html_text(text)
    return FetchedPage(url, response.status_code, kind, text, truncated)


class _TextParser(HTMLParser):
    """Collects visible text, skipping scripts, styles and other hidden parts."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe"}
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The visible text of an HTML document, one block per line."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
