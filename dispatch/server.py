"""Serve a dispatcher with gevent.  Racket: ``serve`` from ``web-server/web-server``.

``serve(dispatch=..., port=...)`` starts the server in the background and returns the
procedure that stops it, as Racket's ``serve`` does; the caller keeps the process alive
(the seed ends with ``read-line``: here :func:`read_line`).  :func:`serve_forever` is the
blocking form.
"""
from __future__ import annotations

import logging
import socket
import sys
from typing import Callable, Optional

import gevent
from gevent import pywsgi
from gevent.pywsgi import WSGIHandler, WSGIServer

from .connection import HANDLER_KEY, RawStream
from .core import Dispatcher
from .headers import parse_headers
from .wsgi import to_wsgi

__all__ = ["DispatchHandler", "DispatchServer", "Stopper", "read_line", "serve",
           "serve_forever"]

log = logging.getLogger("dispatch.server")

# Headers and a body up to this size leave in one send (see _write_with_headers).
_COALESCE_LIMIT = 64 * 1024


class DispatchHandler(WSGIHandler):
    """gevent's pywsgi handler, with what dispatchers need and two slow paths removed.

    Unlike gevent-websocket's ``WebSocketHandler``, it never upgrades a request on its
    own: a WebSocket dispatcher upgrades through ``conn.upgrade`` only once it accepts,
    so an upgrade request no dispatcher wants falls through like any other request.
    """

    def handle(self):
        # Stock pywsgi sends headers and body in two writes without TCP_NODELAY, so each
        # keep-alive response waits out a 40 ms Nagle/delayed-ACK stall.
        if self.socket.family in (socket.AF_INET, socket.AF_INET6):
            try:
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return super().handle()

    def MessageClass(self, rfile, *args):  # pywsgi's name for its header reader
        # pywsgi parses headers with the email package: a fifth of a small request's time.
        return parse_headers(rfile)

    def _headers(self):
        # pywsgi's version re-splits the "name: value" lines its message class rebuilt.
        for name, value in self.headers.items:
            if "_" in name:  # as pywsgi: such a name could pass for one spelt with "-"
                continue
            key = name.replace("-", "_").upper()
            if key != "CONTENT_TYPE" and key != "CONTENT_LENGTH":
                yield "HTTP_" + key, value

    def get_environ(self):
        environ = super().get_environ()
        environ[HANDLER_KEY] = self
        return environ

    def log_request(self):
        # Stock pywsgi formats the access-log line even when there is no access log.
        if self.server.log_requests:
            super().log_request()

    def _write_with_headers(self, data):
        # Stock pywsgi sends the header block and the first body chunk separately: one
        # more syscall, and one more packet, for every small response.
        if len(data) > _COALESCE_LIMIT:
            return super()._write_with_headers(data)
        self.headers_sent = True
        self.finalize_headers()
        parts = [b"HTTP/1.1 ", self.status, b"\r\n"]
        for header, value in self.response_headers:
            parts += (header, b": ", value, b"\r\n")
        parts.append(b"\r\n")
        if data:
            if self.response_use_chunked:
                parts += (b"%x\r\n" % len(data), data, b"\r\n")
            else:
                parts.append(data)
        self._sendall(b"".join(parts))

    def take_over(self, status: str, headers: list) -> RawStream:
        """Send ``status`` and ``headers`` now and hand the socket to the caller."""
        write = self.start_response(status, headers)
        self.provided_content_length = False  # no Content-Length, no chunking
        self.close_connection = True  # the protocol after the upgrade owns the socket
        write(b"")
        return RawStream(self.socket, self.rfile)


class DispatchServer(WSGIServer):
    """A gevent ``WSGIServer`` that uses :class:`DispatchHandler`."""

    handler_class = DispatchHandler

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log_requests = not isinstance(self.log, getattr(pywsgi, "_NoopLog", ()))
        self._shutdown_callbacks: dict[int, Callable[[], object]] = {}
        self._next_callback = 0

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at a graceful stop; returns the procedure that cancels it."""
        key = self._next_callback = self._next_callback + 1
        self._shutdown_callbacks[key] = callback

        def cancel() -> None:
            self._shutdown_callbacks.pop(key, None)

        return cancel

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop accepting, tell long-lived responses to end, then let in-flight requests
        finish for up to ``timeout`` seconds (gevent's default when ``None``)."""
        self.close()
        callbacks, self._shutdown_callbacks = self._shutdown_callbacks, {}
        for callback in callbacks.values():
            try:
                callback()
            except Exception:
                log.exception("shutdown callback failed")
        super().stop(timeout=timeout)


class Stopper:
    """What :func:`serve` returns: call it to stop the server.

    ``port`` is the port actually bound (useful with ``port=0``).
    """

    def __init__(self, server: DispatchServer) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def address(self) -> tuple:
        return self.server.address

    def __call__(self, timeout: Optional[float] = None) -> None:
        self.server.stop(timeout=timeout)


def _make_server(dispatch: Dispatcher, port: int, listen_ip: Optional[str],
                 backlog: int, **server_options) -> DispatchServer:
    server_options.setdefault("log", None)
    server_options.setdefault("error_log", log)
    return DispatchServer((listen_ip or "", port), to_wsgi(dispatch), backlog=backlog,
                          **server_options)


def serve(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
          backlog: int = 511, **server_options) -> Stopper:
    """Serve ``dispatch`` in the background; return the procedure that stops it.

    ``listen_ip=None`` listens on every interface, as Racket's ``#:listen-ip #f``;
    ``port=0`` takes a free port, which ``stopper.port`` tells.  ``server_options`` go
    to gevent's ``WSGIServer`` (``ssl_context``, ``log``, ...).
    """
    server = _make_server(dispatch, port, listen_ip, backlog, **server_options)
    server.start()
    return Stopper(server)


def serve_forever(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
                  backlog: int = 511, **server_options) -> None:
    """Serve ``dispatch`` until the process is interrupted."""
    stop = serve(dispatch, port=port, listen_ip=listen_ip, backlog=backlog, **server_options)
    try:
        stop.server._stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def read_line() -> Optional[str]:
    """Read one line from standard input without stopping the server.  Racket: ``read-line``.

    A plain ``input()`` would block the whole process, and every greenlet with it; this
    reads in gevent's thread pool.  Returns ``None`` at end of input.
    """
    line = gevent.get_hub().threadpool.apply(sys.stdin.readline)
    return line.rstrip("\r\n") if line else None
