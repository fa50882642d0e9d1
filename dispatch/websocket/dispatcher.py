"""WebSocket dispatchers.  Racket: ``make-general-websockets-dispatcher`` from
``net/rfc6455/dispatcher``.

The handshake happens here, and only once the dispatcher accepts the request: an upgrade
request that no WebSocket dispatcher wants falls through the sequencer like any other.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Optional

from werkzeug.wrappers import Response

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..core import Dispatcher, next_dispatcher
from ..handle import HANDLER_KEY
from .connection import ConnectionClosed, WebSocketConnection, WSOptions, fields_of
from .deflate import DeflateOptions, negotiate_server
from .handshake import (
    HandshakeError,
    Origins,
    accept_key,
    check_request,
    is_upgrade,
    origin_policy,
)
from .protocol import CLOSE_INTERNAL_ERROR, CLOSE_NORMAL, Protocol

log = logging.getLogger("dispatch.websocket")

__all__ = ["accept", "make_general_websockets_dispatcher"]

ConnHeaders = Callable[[str, Any], tuple]


def _refuse(conn, error: HandshakeError) -> None:
    conn.respond(Response(str(error) + "\n", status=error.status, headers=error.headers,
                          mimetype="text/plain"))


def accept(conn, request, handler: Callable[..., Any], args: tuple = (), *,
           subprotocol: Optional[str] = None, extra_headers: Iterable = (),
           options: WSOptions = WSOptions(), deflate: DeflateOptions = DeflateOptions(),
           origins: Origins = None) -> None:
    """Complete the handshake on ``conn`` and run ``handler(ws_conn, *args)``.

    Answers a handshake the RFC refuses (400, 426), or one whose ``Origin`` is neither
    the server's own host nor in ``origins`` (403: see
    :func:`~dispatch.websocket.handshake.origin_policy`), with that status instead.
    """
    environ = conn.environ
    try:
        key = check_request(environ, origins)
    except HandshakeError as error:
        _refuse(conn, error)
        return
    answer, codec = negotiate_server(environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS"), deflate)
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Accept", accept_key(key))]
    if subprotocol is not None:
        headers.append(("Sec-WebSocket-Protocol", subprotocol))
    if answer is not None:
        headers.append(("Sec-WebSocket-Extensions", answer))
    headers.extend(extra_headers)
    query = environ.get("QUERY_STRING")
    line = (f"{environ.get('REQUEST_METHOD')} {request.path}{'?' + query if query else ''} "
            f"{environ.get('SERVER_PROTOCOL')}")
    # The handle's own registration: conn.at_shutdown would keep conn, and its environ.
    handle = environ.get(HANDLER_KEY)
    session = _Session(handler, args, codec, options, subprotocol, line,
                       fields_of(environ),  # a copy: the environ is not kept
                       request.path,
                       handle.at_shutdown if handle is not None else conn.at_shutdown)
    del handle
    if conn.can_upgrade:
        # The handler runs in a greenlet of its own and this dispatcher returns: the
        # request's environ, parser and the dispatchers' frames are not kept for the
        # connection's life (most of what an idle WebSocket would cost).
        conn.upgrade(headers, run=session.serve)
    else:
        session.serve(conn.upgrade(headers))


class _Session:
    """What the handler of an accepted handshake runs with, once the socket is handed
    over.  (A closure over these costs an idle connection half a kilobyte more: a cell
    each.)"""

    __slots__ = ("handler", "args", "codec", "options", "subprotocol", "line", "headers",
                 "path", "at_shutdown")

    def __init__(self, handler: Callable[..., Any], args: tuple, codec, options: WSOptions,
                 subprotocol: Optional[str], line: str, headers, path: str,
                 at_shutdown: Callable) -> None:
        self.handler, self.args, self.codec, self.options = handler, args, codec, options
        self.subprotocol, self.line, self.headers, self.path = subprotocol, line, headers, path
        self.at_shutdown = at_shutdown

    def serve(self, stream) -> None:
        options = self.options
        ws = WebSocketConnection(
            stream, Protocol(client=False, deflate=self.codec,
                             max_message_size=options.max_message_size),
            subprotocol=self.subprotocol, request_line=self.line, headers=self.headers,
            path=self.path, options=options)
        cancel = self.at_shutdown(ws.close_for_shutdown)
        if _hooks.observer is not None:
            _hooks.observer.websocket_opened()
        status = CLOSE_NORMAL
        try:
            if self.args:
                self.handler(ws, *self.args)
            else:
                # A plain call: Python runs it in the same C frame, where a call with
                # *args nests one more, which every idle connection's saved stack keeps.
                self.handler(ws)
        except ConnectionClosed:
            pass  # the peer was dropped, and that was logged once: no traceback
        except Exception:
            # A bug in the handler: one log record with the traceback, close 1011.
            log.exception("WebSocket handler failed on %s", self.path)
            status = CLOSE_INTERNAL_ERROR
        finally:
            cancel()
            ws.finish(status, "internal error" if status == CLOSE_INTERNAL_ERROR else "")
            if _hooks.observer is not None:
                _hooks.observer.websocket_closed(ws.close_status)


def make_general_websockets_dispatcher(
        conn_dispatch: Callable[[WebSocketConnection, Any], Any],
        conn_headers: Optional[ConnHeaders] = None, *, options: WSOptions = WSOptions(),
        deflate: DeflateOptions = DeflateOptions(),
        origins: Origins = None) -> Dispatcher:
    """A dispatcher that upgrades every WebSocket request and runs
    ``conn_dispatch(conn, state)``; it declines requests that are not upgrades.

    ``conn_headers(request_line, headers) -> (extra_response_headers, state)`` sees the
    handshake first, as Racket's ``#:conn-headers``; by default there are no extra
    headers and the state is ``None``.  ``origins`` (not in Racket): a browser's
    handshake (one with ``Origin``) is accepted from the server's own host and from
    these origins (``["https://app.example.com"]``; ``"*"``: any), others get 403
    before the upgrade; handshakes without ``Origin`` are accepted.
    """
    origins = origin_policy(origins, "make_general_websockets_dispatcher: origins")

    def dispatcher(conn, request):
        if not is_upgrade(conn.environ):
            next_dispatcher()
        extra, state = (), None
        if conn_headers is not None:
            environ = conn.environ
            line = f"{environ.get('REQUEST_METHOD')} {request.full_path.rstrip('?')} " \
                   f"{environ.get('SERVER_PROTOCOL')}"
            extra, state = conn_headers(line, request.headers)
        accept(conn, request, conn_dispatch, (state,), extra_headers=extra or (),
               options=options, deflate=deflate, origins=origins)

    return dispatcher
