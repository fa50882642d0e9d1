"""The opening handshake (RFC 6455 section 4), both sides, without I/O."""
from __future__ import annotations

import base64
import hashlib
import os
from typing import Iterable, Optional

from geventwebsocket.handler import WebSocketHandler

__all__ = ["HandshakeError", "accept_key", "check_request", "client_key", "is_upgrade",
           "requested_subprotocols", "token_list"]

# gevent-websocket's constant: the GUID of RFC 6455 section 1.3.
GUID = WebSocketHandler.GUID


class HandshakeError(ValueError):
    """A handshake to refuse: ``status`` and extra ``headers`` for the answer."""

    def __init__(self, status: str, message: str, headers: Iterable = ()) -> None:
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


def token_list(value: Optional[str]) -> list[str]:
    """A comma-separated header as a list of lower-case tokens."""
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def is_upgrade(environ: dict) -> bool:
    """Whether the request asks to become a WebSocket at all."""
    return "websocket" in token_list(environ.get("HTTP_UPGRADE"))


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for ``key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode()


def client_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def requested_subprotocols(environ: dict) -> list[str]:
    return [p.strip() for p in environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "").split(",")
            if p.strip()]


def check_request(environ: dict, origins: Optional[Iterable[str]] = None) -> str:
    """Validate an upgrade request; return its key, or raise :class:`HandshakeError`
    with the answer the RFC asks for."""
    if environ.get("REQUEST_METHOD") != "GET":
        raise HandshakeError("405 Method Not Allowed", "a WebSocket handshake is a GET",
                             [("Allow", "GET")])
    if environ.get("SERVER_PROTOCOL") not in ("HTTP/1.1",):
        raise HandshakeError("400 Bad Request", "a WebSocket handshake needs HTTP/1.1")
    if "upgrade" not in token_list(environ.get("HTTP_CONNECTION")):
        raise HandshakeError("400 Bad Request", "Connection: Upgrade is missing")
    version = environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip()
    if version != "13":
        raise HandshakeError("426 Upgrade Required",
                             f"unsupported WebSocket version {version!r}",
                             [("Sec-WebSocket-Version", "13")])
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        valid = False
    if not valid:
        raise HandshakeError("400 Bad Request", "Sec-WebSocket-Key is not 16 bytes of base64")
    if origins is not None:
        origin = environ.get("HTTP_ORIGIN")
        if origin not in set(origins):
            raise HandshakeError("403 Forbidden", f"origin {origin!r} is not allowed")
    return key
