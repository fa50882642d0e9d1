"""The opening handshake (RFC 6455 section 4), both sides, without I/O.

Origins (RFC 6455 section 10.2): browsers send the page's origin with every handshake,
and its cookies, whichever site the page came from.  So that another site's page cannot
open a WebSocket in a logged-in user's name (cross-site WebSocket hijacking), a
handshake that carries ``Origin`` is accepted only from the server's own host (the
Origin's host and port are the request's ``Host``) or from an origin listed in
``origins=``; others get ``403``.  A handshake without ``Origin`` (not a browser) is
accepted: such a client could send any Origin it liked.  ``origins="*"`` accepts every
origin (the behaviour of Racket's ``rfc6455``, which does not look at it).
"""
from __future__ import annotations

import base64
import hashlib
import os
from typing import Iterable, Optional, Union
from urllib.parse import urlsplit

from geventwebsocket.handler import WebSocketHandler

__all__ = ["ANY_ORIGIN", "HandshakeError", "OriginPolicy", "Origins", "accept_key",
           "check_request", "client_key", "is_upgrade", "origin_policy",
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


#: ``origins=ANY_ORIGIN`` accepts a handshake from any origin.
ANY_ORIGIN = "*"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(origin: str) -> Optional[tuple]:
    """``(scheme, host, port)`` of a serialized origin, or None when it is not one
    (``null``, a path, no host)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username is not None:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def _host_key(host: str) -> Optional[tuple]:
    """``(host, port or None)`` of a ``Host`` header value."""
    try:
        parts = urlsplit("//" + host.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.username is not None:
        return None
    return parts.hostname.lower(), port


class OriginPolicy:
    """Which ``Origin`` values a WebSocket handshake may carry: the server's own host
    always, then ``allowed`` (normalised origins, and ``"null"`` if listed), or any when
    ``any_origin``.  Made by :func:`origin_policy`."""

    __slots__ = ("allowed", "any_origin")

    def __init__(self, allowed: frozenset = frozenset(), any_origin: bool = False) -> None:
        self.allowed, self.any_origin = allowed, any_origin

    def refusal(self, environ: dict) -> Optional[str]:
        """Why the handshake in ``environ`` is refused, or None when it is allowed."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or self.any_origin:
            return None
        key = _origin_key(origin)
        if (key if key is not None else origin.strip()) in self.allowed:
            return None
        host = environ.get("HTTP_HOST", "")
        own = _host_key(host)
        if key is not None and own is not None and key[1] == own[0] \
                and key[2] == (own[1] if own[1] is not None else _DEFAULT_PORTS[key[0]]):
            return None
        return (f"origin {origin!r} is not this server's (Host: {host!r}); a page served "
                f"elsewhere needs origins=[{origin!r}] on the WebSocket dispatcher")

    def __repr__(self) -> str:
        if self.any_origin:
            return "OriginPolicy(any)"
        return f"OriginPolicy(own host + {sorted(map(str, self.allowed))!r})"


Origins = Union[None, str, Iterable[str], OriginPolicy]


def origin_policy(origins: Origins = None, who: str = "origins") -> OriginPolicy:
    """The policy for an ``origins=`` argument: ``None`` (the server's own host only), a
    list of origins allowed besides it (``"https://app.example.com"``,
    ``"http://localhost:8000"``; ``"null"`` for sandboxed pages and files), or
    ``"*"`` for any origin.  Anything else is a ``TypeError`` or ``ValueError`` naming
    ``who``, at the call."""
    if isinstance(origins, OriginPolicy):
        return origins
    if origins is None:
        return OriginPolicy()
    if isinstance(origins, str):
        if origins == ANY_ORIGIN:
            return OriginPolicy(any_origin=True)
        raise TypeError(f"{who} is a list of origins or {ANY_ORIGIN!r}, not the string "
                        f"{origins!r} (write [{origins!r}])")
    if isinstance(origins, bytes) or not isinstance(origins, Iterable):
        raise TypeError(f"{who} is a list of origins or {ANY_ORIGIN!r}, "
                        f"not {type(origins).__name__} {origins!r}")
    allowed: set = set()  # "null" and (scheme, host, port) keys
    for origin in origins:
        if not isinstance(origin, str):
            raise TypeError(f"{who}: an origin is a str, not {type(origin).__name__} "
                            f"{origin!r}")
        if origin == ANY_ORIGIN:
            return OriginPolicy(any_origin=True)
        if origin == "null":
            allowed.add(origin)
            continue
        key = _origin_key(origin)
        if key is None:
            raise ValueError(f"{who}: {origin!r} is not an origin: write scheme://host or "
                             f"scheme://host:port (http or https), no path")
        allowed.add(key)
    return OriginPolicy(frozenset(allowed))


def check_request(environ: dict, origins: Origins = None) -> str:
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
    refusal = origin_policy(origins).refusal(environ)
    if refusal is not None:
        raise HandshakeError("403 Forbidden", refusal)
    return key
