"""A WebSocket client for ws:// and wss://.  Racket: ``ws-connect``."""
from __future__ import annotations

from typing import Iterable, Mapping, Optional
from urllib.parse import urlsplit

from gevent import socket as gsocket
from gevent import ssl as gssl

from ..connection import RawStream
from .connection import WebSocketConnection, WSOptions
from .deflate import DeflateOptions, NegotiationError, accept_client, client_offer
from .handshake import accept_key, client_key, token_list
from .protocol import Protocol

__all__ = ["HandshakeFailed", "ws_connect", "ws_url", "wss_url"]

_MAX_RESPONSE_HEAD = 65536


class HandshakeFailed(ConnectionError):
    """The server did not accept the WebSocket; ``status`` is its HTTP status line."""

    def __init__(self, message: str, status: str = "") -> None:
        super().__init__(message)
        self.status = status


def ws_url(url: str) -> bool:
    """Racket: ``ws-url?``."""
    return urlsplit(url).scheme == "ws"


def wss_url(url: str) -> bool:
    """Racket: ``wss-url?``."""
    return urlsplit(url).scheme == "wss"


def ws_connect(url: str, headers: Optional[Mapping[str, str]] = None,
               protocols: Optional[Iterable[str]] = None, *,
               deflate: DeflateOptions = DeflateOptions(),
               options: WSOptions = WSOptions(ping_interval=None),
               ssl_context: Optional[gssl.SSLContext] = None,
               timeout: float = 10.0) -> WebSocketConnection:
    """Open a WebSocket to ``url`` (ws:// or wss://); returns the connection.

    ``headers`` are sent with the handshake; ``protocols`` are the subprotocols offered
    (the one chosen is ``ws_conn_subprotocol(conn)``).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    sock = gsocket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(gsocket.IPPROTO_TCP, gsocket.TCP_NODELAY, 1)
        if secure:
            context = ssl_context or gssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=host)
        key = client_key()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"GET {target} HTTP/1.1", f"Host: {netloc}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        offered = list(protocols or ())
        if offered:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(offered))
        offer = client_offer(deflate)
        if offer:
            lines.append("Sec-WebSocket-Extensions: " + offer)
        for name, value in (headers or {}).items():
            if "\r" in name + value or "\n" in name + value:
                raise ValueError("a header cannot contain a line break")
            lines.append(f"{name}: {value}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, response_headers, leftover = _read_response(sock)
        if not status.startswith("HTTP/1.1 101"):
            raise HandshakeFailed(f"the server answered {status!r}", status)
        if "websocket" not in token_list(response_headers.get("upgrade")) or \
                "upgrade" not in token_list(response_headers.get("connection")):
            raise HandshakeFailed("the answer lacks Upgrade: websocket", status)
        if response_headers.get("sec-websocket-accept") != accept_key(key):
            raise HandshakeFailed("wrong Sec-WebSocket-Accept", status)
        chosen = response_headers.get("sec-websocket-protocol")
        if chosen is not None and chosen not in offered:
            raise HandshakeFailed(f"the server chose a subprotocol not offered: {chosen!r}",
                                  status)
        try:
            codec = accept_client(response_headers.get("sec-websocket-extensions"), deflate)
        except NegotiationError as exc:
            raise HandshakeFailed(str(exc), status) from None
        sock.settimeout(None)
        return WebSocketConnection(
            RawStream(sock, leftover),
            Protocol(client=True, deflate=codec, max_message_size=options.max_message_size),
            subprotocol=chosen, request_line=lines[0], headers=dict(headers or {}),
            path=parts.path or "/", options=options)
    except BaseException:
        sock.close()
        raise


def _read_response(sock) -> tuple:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise HandshakeFailed("the server closed the connection during the handshake")
        data += chunk
        if len(data) > _MAX_RESPONSE_HEAD:
            raise HandshakeFailed("the handshake response is too large")
    head, leftover = data.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, leftover
