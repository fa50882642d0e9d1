"""WebSocket servers on their own port.  Racket: ``ws-serve`` and ``ws-serve*``.

(Not ``server.py``: ``dispatch.server`` is the server's public face; WebSockets served
beside pages on one port are ``dispatch.websocket``'s dispatchers.)"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..server import Stopper, serve
from .connection import WSOptions
from .deflate import DeflateOptions
from .dispatcher import ConnHeaders, make_general_websockets_dispatcher
from .handshake import Origins
from .service_mapper import ServiceMapper, make_service_mapper_dispatcher

__all__ = ["ws_serve", "ws_serve_star"]


def ws_serve(conn_dispatch: Callable[..., Any], port: int = 8081,
             listen_ip: Optional[str] = None, conn_headers: Optional[ConnHeaders] = None, *,
             options: WSOptions = WSOptions(), deflate: DeflateOptions = DeflateOptions(),
             origins: Origins = None, **server_options) -> Stopper:
    """Serve ``conn_dispatch(conn, state)`` WebSockets on ``port``; returns the stop
    procedure.  Racket: ``ws-serve``."""
    return serve(make_general_websockets_dispatcher(
        conn_dispatch, conn_headers, options=options, deflate=deflate, origins=origins),
        port=port, listen_ip=listen_ip, **server_options)


def ws_serve_star(mapper: ServiceMapper, port: int = 8081, listen_ip: Optional[str] = None,
                  *, options: WSOptions = WSOptions(),
                  deflate: DeflateOptions = DeflateOptions(),
                  origins: Origins = None, **server_options) -> Stopper:
    """Serve a service mapper on ``port``.  Racket: ``ws-serve*`` (``*`` is not a Python
    name character)."""
    return serve(make_service_mapper_dispatcher(
        mapper, options=options, deflate=deflate, origins=origins),
        port=port, listen_ip=listen_ip, **server_options)
