"""Applications written for gevent-websocket, run as dispatchers on this project's
WebSocket connection.

No Racket twin: Racket's ``make-general-websockets-dispatcher`` is the shape (the
handshake happens in the dispatcher, only once it accepts), gevent-websocket is the API
the application sees.  An app that reads ``environ["wsgi.websocket"]`` and calls
``receive()``, ``send()`` and ``close()`` (Flask-Sockets style) moves over unchanged::

    def echo_app(environ, start_response):
        ws = environ["wsgi.websocket"]
        while not ws.closed:
            message = ws.receive()
            if message is not None:
                ws.send(message)
        return []

    sequencer.make(filter.make("^/echo$", make_wsgi_websocket_dispatcher(echo_app)),
                   dispatch_servlet(start))

Requests that are not WebSocket upgrades are declined, so the app's plain HTTP side (if
it has one) can be mounted next with :mod:`dispatch.wsgi_app`.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Union

from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.handler import Client

from ..connection import WSGIApp
from ..core import Dispatcher, next_dispatcher
from .connection import EOF, ConnectionClosed, WebSocketConnection, WSOptions
from .deflate import DeflateOptions
from .dispatcher import accept
from .handshake import Origins, is_upgrade, origin_policy, requested_subprotocols
from .protocol import OP_PING, OP_PONG

__all__ = ["GeventWebSocket", "make_wsgi_websocket_dispatcher"]

log = logging.getLogger("dispatch.websocket")

# gevent-websocket's messages, so that code matching on them keeps working.
MSG_ALREADY_CLOSED = "Connection is already closed"
MSG_SOCKET_DEAD = "Socket is dead"


class _NoApp:
    """gevent-websocket's ``current_app`` outside its WebSocketServer: ``on_close`` does
    nothing."""

    def on_close(self, *args) -> None:
        pass


class GeventWebSocket:
    """gevent-websocket's ``WebSocket`` interface over a :class:`WebSocketConnection`.

    ``receive()`` returns ``str`` for text and ``bytes`` for binary messages (gevent-
    websocket gives a ``bytearray``), and ``None`` once the connection closed; after that,
    ``receive()`` and ``send()`` raise gevent-websocket's ``WebSocketError``.
    """

    OPCODE_CONTINUATION = 0x00
    OPCODE_TEXT = 0x01
    OPCODE_BINARY = 0x02
    OPCODE_CLOSE = 0x08
    OPCODE_PING = 0x09
    OPCODE_PONG = 0x0A

    def __init__(self, environ: dict, conn: WebSocketConnection,
                 handler: Optional[_Handler] = None) -> None:
        self.environ = environ
        self.conn = conn
        self.closed = False
        self.current_app = _NoApp()
        self.logger = log
        self.handler = handler

    @property
    def origin(self) -> Optional[str]:
        return self.environ.get("HTTP_ORIGIN")

    @property
    def protocol(self) -> Optional[str]:
        # gevent-websocket answers the *requested* protocols header here.
        return self.environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL")

    @property
    def version(self) -> Optional[str]:
        return self.environ.get("HTTP_SEC_WEBSOCKET_VERSION")

    @property
    def path(self) -> Optional[str]:
        return self.environ.get("PATH_INFO")

    def receive(self) -> Union[str, bytes, None]:
        """The next message, or ``None`` once the peer closed or the connection failed."""
        if self.closed:
            raise WebSocketError(MSG_ALREADY_CLOSED)
        message = self.conn.recv()
        if message is EOF:
            self.closed = True
            return None
        return message  # type: ignore[return-value]  # not EOF, handled above

    read_message = receive

    def send(self, message: Any, binary: Optional[bool] = None) -> None:
        """Send ``message``: binary when ``binary`` or, by default, when it is not a
        ``str``."""
        if binary is None:
            binary = not isinstance(message, str)
        self.send_frame(message, self.OPCODE_BINARY if binary else self.OPCODE_TEXT)

    def send_frame(self, message: Any, opcode: int) -> None:
        if self.closed:
            raise WebSocketError(MSG_SOCKET_DEAD)
        try:
            if opcode == self.OPCODE_TEXT:
                if not isinstance(message, (str, bytes)):
                    message = str(message or "")  # as gevent-websocket's _encode_bytes
                self.conn.send(message, payload_type="text")
            elif opcode == self.OPCODE_BINARY:
                data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
                self.conn.send(data, payload_type="binary")
            elif opcode in (self.OPCODE_PING, self.OPCODE_PONG):
                data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
                frame = self.conn.protocol.encode_frame(
                    OP_PING if opcode == self.OPCODE_PING else OP_PONG, data)
                self.conn._send_raw(frame, control=True)
            elif opcode == self.OPCODE_CLOSE:
                self.close()
            else:
                raise ValueError(f"cannot send a frame with opcode {opcode!r}")
        except ConnectionClosed:
            self.closed = True
            raise WebSocketError(MSG_SOCKET_DEAD) from None

    def close(self, code: int = 1000, message: Union[bytes, str, None] = b"") -> None:
        """Close with ``code`` and ``message`` (the reason), waiting briefly for the peer's
        answer.  Closing twice does nothing."""
        if self.closed and self.conn.closed:
            return
        reason = message.decode("utf-8", "replace") if isinstance(message, bytes) \
            else (message or "")
        self.closed = True
        self.conn.close(code, reason)


class _Server:
    """What gevent-websocket apps reach as ``ws.handler.server``: ``clients``, the open
    sessions of this dispatcher by client address (chat examples broadcast over it)."""

    def __init__(self) -> None:
        self.clients: dict = {}
        self.logger = log


class _Handler:
    """What gevent-websocket apps reach as ``ws.handler``."""

    def __init__(self, server: _Server, client_address: tuple) -> None:
        self.server = server
        self.client_address = client_address
        self.logger = log

    @property
    def active_client(self):
        return self.server.clients[self.client_address]


def _discard(status, headers, exc_info=None):
    # The 101 is sent already: whatever HTTP answer the app starts goes nowhere, as with
    # gevent-websocket's handler.
    return lambda data: None


def _run(conn: WebSocketConnection, app: WSGIApp, environ: dict, server: _Server) -> None:
    port = environ.get("REMOTE_PORT")
    address = (environ.get("REMOTE_ADDR"), int(port) if port and port.isdigit() else port)
    ws = GeventWebSocket(environ, conn, _Handler(server, address))
    environ["wsgi.websocket_version"] = environ.get("HTTP_SEC_WEBSOCKET_VERSION", "13")
    environ["wsgi.websocket"] = ws
    server.clients[address] = Client(address, ws)
    try:
        result = app(environ, _discard)
        try:
            for _ in result or ():
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except WebSocketError:
        # gevent-websocket code ends this way when the peer left mid-send (the echo of
        # Flask-Sockets' README does on every close): not a failure once closed.
        if not (ws.closed or conn.closed):
            raise
        log.debug("gevent-websocket app ended on a closed connection", exc_info=True)
    except Exception:
        # RFC 6455's 1011 tells the client the server failed; the error is logged above.
        if not conn.closed:
            conn.close(1011, "internal error")
        raise
    finally:
        server.clients.pop(address, None)
        environ["wsgi.websocket"] = None


def make_wsgi_websocket_dispatcher(
        app: WSGIApp, *, options: WSOptions = WSOptions(),
        deflate: DeflateOptions = DeflateOptions(),
        origins: Origins = None) -> Dispatcher:
    """A dispatcher running the gevent-websocket application ``app``.

    It declines requests that are not WebSocket upgrades; an upgrade is completed here
    (refused with 400/403/426 when the RFC says so) and ``app(environ, start_response)``
    then runs with ``environ["wsgi.websocket"]`` set, as under gevent-websocket's
    handler, and ``ws.handler.server.clients`` holds this dispatcher's open sessions
    (gevent-websocket's ``Client(address, ws)`` by address), for apps that broadcast
    over it.  The HTTP response the app may start is discarded.  When ``app`` has
    gevent-websocket's ``app_protocol(path)`` hook, the subprotocol it names is chosen if
    the client offered it.  Wrap in :mod:`dispatch.filter` to take only some paths.
    A browser's handshake from another site than the server's own host gets 403 unless
    ``origins`` lists its origin (gevent-websocket's handler does not check; see
    :func:`~dispatch.websocket.handshake.origin_policy`).
    """
    origins = origin_policy(origins, "make_wsgi_websocket_dispatcher: origins")
    app_protocol = getattr(app, "app_protocol", None)
    server = _Server()

    def dispatcher(conn, request):
        if not is_upgrade(conn.environ):
            next_dispatcher()
        subprotocol = None
        if app_protocol is not None:
            wanted = app_protocol(conn.environ.get("PATH_INFO", ""))
            if wanted and wanted in requested_subprotocols(conn.environ):
                subprotocol = wanted
        accept(conn, request, _run, (app, conn.environ, server), subprotocol=subprotocol,
               options=options, deflate=deflate, origins=origins)

    return dispatcher
