"""Serve a dispatcher with gevent.  Racket: ``serve`` from ``web-server/web-server``.

``serve(dispatch=..., port=...)`` starts the server in the background and returns the
procedure that stops it, as Racket's ``serve`` does; the caller keeps the process alive
(the seed ends with ``read-line``: here :func:`read_line`).  :func:`serve_forever` is the
blocking form.
"""
from __future__ import annotations

import logging
import signal
import socket
import sys
import time
from typing import Callable, Optional

import gevent
import gevent.event
from gevent import pywsgi
from gevent.pywsgi import WSGIHandler, WSGIServer

from .connection import HANDLER_KEY, MAX_BODY_KEY, RawStream
from .core import Dispatcher
from .safety_limits import SafetyLimits
from .wsgi import to_wsgi

__all__ = ["DispatchHandler", "DispatchServer", "Stopper", "read_line", "serve",
           "serve_forever"]

log = logging.getLogger("dispatch.server")

# Headers and a body up to this size leave in one send (see _write_with_headers).
_COALESCE_LIMIT = 64 * 1024
# Keep-alive requests a connection is served in a row before the others' turn.
_REQUESTS_PER_TURN = 4


class RequestHeadersTooLarge(ValueError):
    """Too many request headers, or one too long: answered with 431."""


class RequestHeaders:
    """The request headers as pywsgi uses them, parsed without the ``email`` package.

    Stock pywsgi parses headers with ``http.client.parse_headers``, which builds an
    ``email.message.Message``: the single largest cost of a small request.  This reads
    the same lines into a list of pairs and offers the few methods pywsgi calls.
    """

    __slots__ = ("pairs",)
    status = ""  # pywsgi rejects the request when this is set

    def __init__(self, pairs: list) -> None:
        self.pairs = pairs

    @classmethod
    def read(cls, rfile, limits: SafetyLimits) -> RequestHeaders:
        pairs = []
        max_line, max_count = limits.max_request_header_length, limits.max_request_headers
        while True:
            line = rfile.readline(max_line + 1)
            if line in (b"\r\n", b"\n", b""):
                return cls(pairs)
            if len(line) > max_line:
                raise RequestHeadersTooLarge(
                    f"a request header line is longer than {max_line} bytes")
            if len(pairs) == max_count:
                raise RequestHeadersTooLarge(f"more than {max_count} request headers")
            name, colon, value = line.decode("latin-1").partition(":")
            # RFC 9112 5.1: no whitespace before the colon; 5.2: obsolete line folding
            # is rejected rather than guessed at.
            if not colon or not name or name != name.strip() or name[0] in " \t":
                raise ValueError(f"malformed request header line: {line[:100]!r}")
            pairs.append((name, value.strip()))

    def get(self, name: str, default=None):
        name = name.lower()
        for key, value in self.pairs:
            if key.lower() == name:
                return value
        return default

    getheader = get

    @property
    def typeheader(self):
        return self.get("content-type")

    def __delitem__(self, name: str) -> None:
        name = name.lower()
        self.pairs = [(k, v) for k, v in self.pairs if k.lower() != name]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def items(self) -> list:
        return list(self.pairs)


class _RequestLineTooLong(Exception):
    pass


class _NonASCIIRequestLine(Exception):
    pass


_REQUEST_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                             b"Content-Length: 0\r\n\r\n")
_URI_TOO_LONG_RESPONSE = (b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
                          b"Content-Length: 0\r\n\r\n")
_SERVICE_UNAVAILABLE_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                 b"Retry-After: 1\r\nContent-Length: 0\r\n\r\n")
_HEADERS_TOO_LARGE_RESPONSE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                               b"Connection: close\r\nContent-Length: 0\r\n\r\n")


class DispatchHandler(WSGIHandler):
    """gevent's pywsgi handler, with what dispatchers need and two slow paths removed.

    Unlike gevent-websocket's ``WebSocketHandler``, it never upgrades a request on its
    own: a WebSocket dispatcher upgrades through ``conn.upgrade`` only once it accepts,
    so an upgrade request no dispatcher wants falls through like any other request.
    """

    #: The request reader's buffer.  pywsgi's default (8 KiB) is most of what an idle
    #: SSE stream or WebSocket costs; request heads are rarely over 2 KiB, and larger
    #: reads bypass the buffer anyway.
    read_buffer_size = 2048

    def __init__(self, sock, address, server, rfile=None):
        if rfile is None:
            rfile = sock.makefile("rb", self.read_buffer_size)
        super().__init__(sock, address, server, rfile)

    def handle(self):
        self.greenlet = gevent.getcurrent()
        self.server.handlers.add(self)
        try:
            return self._handle()
        finally:
            self.server.handlers.discard(self)

    def _handle(self):
        # Stock pywsgi sends headers and body in two writes without TCP_NODELAY, so each
        # keep-alive response waits out a 40 ms Nagle/delayed-ACK stall.
        if self.socket.family in (socket.AF_INET, socket.AF_INET6):
            try:
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return super().handle()

    def MessageClass(self, rfile, *args):  # noqa: N802 (pywsgi's name)
        return RequestHeaders.read(rfile, self.server.safety_limits)

    #: whether the application is running for this connection (else it waits for a
    #: request, and a graceful stop may close it at once)
    in_request = False
    _read_deadline = None

    def handle_one_request(self):
        # One deadline for the whole request head (slowloris): a socket time-out alone
        # is reset by every byte a slow client trickles. The exception it raises is a
        # socket.timeout, which pywsgi treats as a client's fault (see
        # _handle_client_error: 408, or a silent close before the first byte).
        self.in_request = False
        timeout = self.server.safety_limits.request_read_timeout
        if timeout is not None:
            self._read_deadline = gevent.Timeout(timeout, socket.timeout("request read timeout"))
            self._read_deadline.start()
        try:
            return super().handle_one_request()
        except _RequestLineTooLong:
            return ("414", _URI_TOO_LONG_RESPONSE)
        except _NonASCIIRequestLine:
            return ("400", pywsgi._BAD_REQUEST_RESPONSE)
        finally:
            self._cancel_read_deadline()

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.close()
            self._read_deadline = None

    #: requests read on this connection since it last let the others run
    _requests_this_turn = 0

    def read_requestline(self):
        # Keep-alive connections take turns: a client that pipelines its next request
        # never makes this greenlet wait, and then the hub never runs the other
        # connections (under wrk -c32, p99 0.1-0.7 s). Yielding every few requests brings
        # p99 to tens of ms for a few percent of CPU (measured on the benchmark branch).
        self._requests_this_turn += 1
        if self._requests_this_turn > _REQUESTS_PER_TURN:
            self._requests_this_turn = 1
            gevent.sleep(0)
        limit = self.server.safety_limits.max_request_line_length
        line = self.rfile.readline(limit + 1)
        if len(line) > limit:
            raise _RequestLineTooLong()
        if not line.isascii():
            # RFC 9112 3.2: a request target is ASCII (anything else percent-encoded);
            # werkzeug would fail decoding such a query string deep in the application.
            raise _NonASCIIRequestLine()
        return line.decode("latin-1")

    def _headers(self):
        # pywsgi's version re-splits "Name: value" strings; the pairs are already split.
        for name, value in self.headers.pairs:
            if "_" in name:  # as pywsgi: such headers could pose as others (X_A vs X-A)
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield "HTTP_" + key, value

    def _handle_client_error(self, ex):
        if isinstance(ex, socket.timeout):
            self.close_connection = True
            return ("408", _REQUEST_TIMEOUT_RESPONSE)
        if isinstance(ex, RequestHeadersTooLarge):
            self.log_error("(from %s) %s", self.client_address, ex)
            return ("431", _HEADERS_TOO_LARGE_RESPONSE)
        return super()._handle_client_error(ex)

    def get_environ(self):
        self._cancel_read_deadline()  # the head has arrived: the application's turn
        self.in_request = True
        environ = super().get_environ()
        environ[HANDLER_KEY] = self
        limits = self.server.safety_limits
        environ[MAX_BODY_KEY] = limits.max_request_body_length
        self.socket.settimeout(limits.response_send_timeout)
        return environ

    def finalize_headers(self):
        # One Date string a second rather than one strftime a response.
        if self.provided_date is None:
            self.response_headers.append((b"Date", _http_date()))
            self.provided_date = True
        super().finalize_headers()

    def log_request(self):
        # pywsgi formats the access-log line even when the log is a no-op.
        if not isinstance(self.server.log, pywsgi._NoopLog):
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
        return RawStream(self.socket, self._buffered_input())

    def _buffered_input(self) -> bytes:
        """What the request parser read past the headers, without waiting for more."""
        timeout = self.socket.gettimeout()
        self.socket.settimeout(0.0)
        try:
            return self.rfile.read1(65536) or b""
        except OSError:  # nothing buffered and nothing on the socket yet
            return b""
        finally:
            self.socket.settimeout(timeout)


_date_cache = [0, b""]


def _http_date() -> bytes:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, pywsgi.format_date_time(now)]
    return _date_cache[1]


def _refuse(sock, response: bytes) -> None:
    """Answer without reading the request, then close without a reset: a socket closed
    with unread input sends RST, and the client may lose the answer."""
    try:
        sock.sendall(response)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        for _ in range(16):  # bounded: at most 16 reads of the unread request
            if not sock.recv(4096):
                break
    except OSError:
        pass
    finally:
        sock.close()


class DispatchServer(WSGIServer):
    """A gevent ``WSGIServer`` that uses :class:`DispatchHandler`."""

    handler_class = DispatchHandler

    def __init__(self, *args, safety_limits: SafetyLimits = SafetyLimits(), **kwargs) -> None:
        if isinstance(args[0] if args else kwargs.get("listener"), tuple):
            kwargs.setdefault("backlog", safety_limits.max_waiting)  # else bound already
        # Set before gevent's __init__, which may call close() (see gunicorn.Server).
        self.safety_limits = safety_limits
        self._shutdown_callbacks: dict[int, Callable[[], object]] = {}
        self._next_callback = 0
        self.handlers: set = set()  # open connections' handlers
        super().__init__(*args, **kwargs)

    def handle(self, sock, address):
        # Beyond max_concurrent a client gets a clear 503 at once rather than waiting in
        # a full pool (what a gevent Pool does) until its own time-out.
        if len(self.handlers) >= self.safety_limits.max_concurrent:
            _refuse(sock, _SERVICE_UNAVAILABLE_RESPONSE)
            return
        super().handle(sock, address)

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at a graceful stop; returns the procedure that cancels it."""
        key = self._next_callback = self._next_callback + 1
        self._shutdown_callbacks[key] = callback

        def cancel() -> None:
            self._shutdown_callbacks.pop(key, None)

        return cancel

    def run_shutdown_callbacks(self) -> None:
        callbacks, self._shutdown_callbacks = self._shutdown_callbacks, {}
        for callback in callbacks.values():
            try:
                callback()
            except Exception:
                log.exception("shutdown callback failed")

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop accepting, tell long-lived responses to end, then let in-flight requests
        finish for up to ``timeout`` seconds (gevent's default when ``None``)."""
        self.close()
        self.run_shutdown_callbacks()
        # gevent's own stop waits only for a Pool's greenlets, and there is none by
        # default: wait here for requests in flight; idle keep-alive connections close
        # at once.
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        while self.handlers and time.monotonic() < deadline:
            for handler in list(self.handlers):
                if not handler.in_request:
                    handler.greenlet.kill(block=False)
            gevent.sleep(0.01)
        for handler in list(self.handlers):
            handler.greenlet.kill(block=False)
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


def _reuse_port_listener(address: tuple, backlog: int):
    """A listening socket that other processes may bind too (SO_REUSEPORT): the kernel
    spreads new connections over them."""
    from gevent import socket as gsocket

    sock = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    sock.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEADDR, 1)
    sock.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(backlog)
    return sock


def serve(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
          safety_limits: SafetyLimits = SafetyLimits(), reuse_port: bool = False,
          **server_options) -> Stopper:
    """Serve ``dispatch`` in the background; return the procedure that stops it.

    ``listen_ip=None`` listens on every interface, as Racket's ``#:listen-ip #f``;
    ``port=0`` takes a free port, which ``stopper.port`` tells.  ``reuse_port=True``
    lets several processes serve the same port.  ``safety_limits``:
    see :mod:`dispatch.safety_limits`.  ``server_options`` go to gevent's
    ``WSGIServer``: ``ssl_context=`` (or ``certfile=``/``keyfile=``) serves https and
    wss on the same port.
    """
    server_options.setdefault("log", None)
    server_options.setdefault("error_log", log)
    listener = (listen_ip or "", port)
    if reuse_port:
        listener = _reuse_port_listener(listener, safety_limits.max_waiting)
    server = DispatchServer(listener, to_wsgi(dispatch), safety_limits=safety_limits,
                            **server_options)
    server.start()
    return Stopper(server)


def serve_forever(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
                  stop_timeout: float = 10.0, **server_options) -> None:
    """Serve ``dispatch`` until SIGTERM or SIGINT, then stop gracefully: stop accepting,
    close WebSockets with 1001, end SSE streams, and give in-flight requests up to
    ``stop_timeout`` seconds."""
    stop = serve(dispatch, port=port, listen_ip=listen_ip, **server_options)
    done = gevent.event.Event()
    handlers = [gevent.signal_handler(signum, done.set)
                for signum in (signal.SIGTERM, signal.SIGINT)]
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for handler in handlers:
            handler.cancel()
        stop(timeout=stop_timeout)


def read_line() -> Optional[str]:
    """Read one line from standard input without stopping the server.  Racket: ``read-line``.

    A plain ``input()`` would block the whole process, and every greenlet with it; this
    reads in gevent's thread pool.  Returns ``None`` at end of input.
    """
    line = gevent.get_hub().threadpool.apply(sys.stdin.readline)
    return line.rstrip("\r\n") if line else None
