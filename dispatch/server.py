"""Serve a dispatcher with gevent.  Racket: ``serve`` from ``web-server/web-server``.

``serve(dispatch=..., port=...)`` starts the server in the background and returns the
procedure that stops it, as Racket's ``serve`` does; the caller keeps the process alive
(the seed ends with ``read-line``: here :func:`read_line`).  :func:`serve_forever` is the
blocking form.

The server is a gevent ``StreamServer`` with a greenlet per connection, running
:class:`HTTPConnection`: requests are read by the sans-I/O :mod:`dispatch.http11` core
(llhttp through ``httptools``) and answered by a WSGI application (``to_wsgi``).  It
replaces gevent's ``pywsgi``, whose framing let requests be smuggled (it trusts
Content-Length beside Transfer-Encoding, parses Content-Length with ``int()``, truncates
over-long chunked bodies, and keeps reading after a malformed chunk) and whose per-request
path cost more than the rest of a small request put together.
"""
from __future__ import annotations

import logging
import signal
import socket
import sys
import time
import warnings
from collections import deque
from typing import Any, Callable, Optional, Union

import gevent
import gevent.event
import gevent.monkey
from gevent.server import StreamServer
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .connection import HANDLER_KEY, MAX_BODY_KEY, SAFETY_LIMITS_KEY, RawStream, WSGIApp
from .core import Dispatcher
from .detached import DetachedStream
from .http11 import writer
from .http11.environ import environ_for
from .http11.reader import Message, ProtocolError, RequestReader
from .safety_limits import SafetyLimits
from .wsgi import to_wsgi

__all__ = ["DispatchServer", "HTTPConnection", "Stopper", "read_line", "serve",
           "serve_forever", "wait_then_stop"]

log = logging.getLogger("dispatch.server")

# Keep-alive requests a connection is served in a row before the others' turn.
_REQUESTS_PER_TURN = 4
_RECV_SIZE = 65536
# Bodies up to this size leave in the same send as the headers.
_COALESCE_LIMIT = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented",
            505: "HTTP Version Not Supported"}
# Errors of a client that went away or stopped reading: the connection just ends.
_GONE = (ConnectionError, socket.timeout, TimeoutError, OSError)


class _HeadTimeout(Exception):
    """The request head did not arrive in time."""


#: what _next_request returns when the connection has been idle for _PARK_AFTER
_PARK = object()
# Seconds an idle keep-alive connection keeps its greenlet: a busy client's next request
# comes sooner; after that the connection waits on a watcher alone, without a greenlet
# and its stack (most of what an idle connection costs).
_PARK_AFTER = 1.0


class HTTPConnection:
    """One client connection: it reads requests, runs the application, writes answers.

    Exposed to the application as ``environ["gevent_dispatch.handler"]`` (what
    ``conn.upgrade``, ``conn.socket`` and ``conn.at_shutdown`` use).
    """

    __slots__ = ("server", "socket", "address", "reader", "greenlet", "in_request",
                 "message", "status", "headers", "head_sent", "keep_alive",
                 "upgraded", "sent_continue", "_framing", "_remaining", "_idle_since",
                 "_watchers", "_timer", "detached", "_raw", "__weakref__")
    status: Optional[str]  # the response's status line, once start_response was called

    def __init__(self, server: DispatchServer, sock, address) -> None:
        self.server = server
        self.socket = sock
        self.address = address
        limits = server.safety_limits
        self.reader = RequestReader(limits.max_request_line_length, limits.max_request_headers,
                                    limits.max_request_header_length,
                                    limits.max_request_body_length,
                                    limits.max_form_data_length)
        #: the greenlet serving this connection; None while it is parked
        self.greenlet = gevent.getcurrent()
        #: whether a request is being answered (else a graceful stop may close at once)
        self.in_request = False
        self.message: Optional[Message] = None
        self.upgraded = False
        #: the socket belongs to a DetachedStream, which closes it
        self.detached = False
        self._watchers: Optional[tuple] = None
        self._timer: Optional[gevent.Timeout] = None  # the head's deadline, reused
        # The OS socket under gevent's, for the common case of a send the kernel takes
        # whole and a read after a wait (gevent's recv first tries and fails with an
        # exception, its sendall asks the socket's options on every call).  TLS keeps
        # state beside the socket: gevent's own methods there.
        self._raw = getattr(sock, "_sock", None) if getattr(sock, "pending", None) is None \
            else None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # a Unix socket
        # Waiting for a request is bounded by the head's deadline (_next_request); the
        # socket's own time-out (which costs a timer per wait) is the send time-out, set
        # while a request is answered.
        sock.settimeout(None)

    # -- the connection's loop ------------------------------------------------------
    def run(self) -> None:
        """Serve requests until the connection ends or parks."""
        served = 0
        parked = False
        self._idle_since = time.monotonic()
        try:
            while True:
                message = self._next_request()
                if message is None:
                    return
                if message is _PARK:
                    parked = self._park()
                    if parked:
                        return
                    continue
                if isinstance(message, ProtocolError):
                    self._refuse(message)
                    return
                served += 1
                if served > _REQUESTS_PER_TURN:
                    # Keep-alive connections take turns: a client that pipelines never
                    # makes this greenlet wait, and then the hub would run no other.
                    served = 1
                    gevent.sleep(0)
                if not self._serve(message) or self.upgraded:
                    return
                self._idle_since = time.monotonic()
        except _GONE:
            pass
        finally:
            if parked:
                self.greenlet = None
            elif self.detached:
                if self.greenlet is gevent.getcurrent():
                    self.greenlet = None  # (a detached upgrade's greenlet stays)
            else:
                self.close()

    def close(self) -> None:
        """End the connection (a parked or detached one too)."""
        if self.socket is None:
            return
        self.in_request = False
        self.greenlet = None
        self._unwatch()
        sock, self.socket = self.socket, None
        try:
            sock.close()
        except OSError:
            pass
        self.server.connection_closed(self)

    def _next_request(self):
        """The next request, a :class:`ProtocolError`, ``_PARK``, or ``None`` at the end."""
        reader = self.reader
        queue = reader.queue
        if queue:
            return queue.popleft()
        if reader.dead:
            return None
        limit = self.server.safety_limits.request_read_timeout
        while True:
            waited = time.monotonic() - self._idle_since
            if limit is not None and waited >= limit:
                if reader.in_head:
                    return ProtocolError(408, "the request head did not arrive in time")
                return None  # an idle keep-alive connection: closed without a word
            seconds = None if limit is None else limit - waited
            if not reader.in_head and self.server.park_after is not None and \
                    (seconds is None or seconds > self.server.park_after):
                seconds, park = self.server.park_after, True
            else:
                park = False
            if park:
                # The common wait, with the same length each time: one timer, reused.
                timer = self._timer
                if timer is None:
                    timer = self._timer = gevent.Timeout(seconds, _HeadTimeout)
            else:
                timer = gevent.Timeout(seconds, _HeadTimeout)
            if seconds is not None:
                timer.start()
            try:
                while not queue:
                    data = self._recv()
                    if data:
                        reader.feed(data)
                    else:
                        reader.feed_eof()
                        if reader.dead and not queue:
                            return None
                return queue.popleft()
            except _HeadTimeout:
                if park and not reader.in_head:
                    return _PARK
            finally:
                timer.cancel()

    # -- parking: an idle keep-alive connection without a greenlet ----------------------
    def _park(self) -> bool:
        """Wait for the next request on a watcher rather than in a greenlet; False where
        the socket cannot be watched that way (TLS with buffered bytes)."""
        pending = getattr(self.socket, "pending", None)
        if pending is not None and pending():
            return False
        limit = self.server.safety_limits.request_read_timeout
        loop = gevent.get_hub().loop
        readable = loop.io(self.socket.fileno(), 1)
        readable.start(self._wake)
        expiry = None
        if limit is not None:
            expiry = loop.timer(max(0.0, limit - (time.monotonic() - self._idle_since)))
            expiry.start(self._expire)
        self._watchers = (readable, expiry)
        self.greenlet = None
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        return True

    def _unwatch(self) -> None:
        if self._watchers is not None:
            for watcher in self._watchers:
                if watcher is not None:
                    watcher.stop()
                    watcher.close()
            self._watchers = None

    def _wake(self) -> None:  # in the hub: no blocking here
        self._unwatch()
        self.greenlet = gevent.spawn(self.run)

    def _expire(self) -> None:  # in the hub
        self.close()

    def _refuse(self, error: ProtocolError) -> None:
        """Answer a request that cannot be served, then close: nothing after a framing
        error can be trusted to start a request."""
        body = f"{error.reason}\n".encode("latin-1", "replace")
        status = f"{error.status} {_REASONS.get(error.status, 'Error')}"
        data, _, _ = writer.head(status, [("Content-Type", "text/plain; charset=utf-8")],
                                 len(body), False, False, writer.http_date())
        try:
            self.socket.sendall(data + body)
        except _GONE:
            return
        self._linger()

    def _linger(self) -> None:
        """Close without a reset: a socket closed with unread input sends RST, and the
        client may lose the answer it has not read yet.  Bounded: 16 reads, 1 s each."""
        try:
            self.socket.shutdown(socket.SHUT_WR)
            self.socket.settimeout(1.0)
            for _ in range(16):
                if not self.socket.recv(_RECV_SIZE):
                    break
        except _GONE:
            pass

    # -- one request --------------------------------------------------------------------
    def _serve(self, message: Message) -> bool:
        """Answer ``message``; return whether the connection stays open."""
        self.message = message
        self.in_request = True
        self.socket.settimeout(self.server.safety_limits.response_send_timeout)
        self.status = None
        self.head_sent = False
        self.sent_continue = False
        self.keep_alive = message.keep_alive
        environ = environ_for(message, self.server.environ)
        environ[HANDLER_KEY] = self
        address = self.address
        if type(address) is tuple:
            environ["REMOTE_ADDR"] = address[0]
            environ["REMOTE_PORT"] = str(address[1])
        environ["wsgi.input"] = (Input(self, message) if message.body or not message.complete
                                 else _EMPTY_INPUT)
        server = self.server
        started = time.monotonic() if server.access_log is not None else 0.0
        length = 0
        try:
            result = server.application(environ, self.start_response)
            try:
                length = self._send_result(result, environ["REQUEST_METHOD"])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except _GONE:
            return False
        except Exception:
            log.exception("error answering %s %s", message.method, environ.get("PATH_INFO"))
            if self.head_sent or self.upgraded:
                return False
            self._refuse(ProtocolError(500, "Internal Server Error"))
            return False
        finally:
            self.in_request = False
            self.message = None
            if self.socket is not None:
                self.socket.settimeout(None)
        if server.access_log is not None:
            code = int(self.status[:3]) if self.status else None
            server.access_log(environ, code, length, time.monotonic() - started)
        if self.upgraded:
            return False
        if not self.keep_alive:
            if not message.complete or message.error is not None:
                self._linger()  # the client may still be sending the body
            return False
        if self._finish_body(message):
            return True
        self._linger()
        return False

    def _finish_body(self, message: Message) -> bool:
        """Read what the application left of the body, so that the next request starts
        where it should; whether the connection can go on."""
        reader = self.reader
        if message.upgrade:
            reader.resume(message)  # an upgrade nobody took: an ordinary request
        if message.complete and message.error is None:
            message.body.clear()
            return True
        if message.expect_continue and not self.sent_continue:
            return False  # the client may or may not send it: the connection ends here
        self.socket.settimeout(self.server.safety_limits.response_send_timeout)
        try:
            while not message.complete and message.error is None:
                message.body.clear()
                self._receive()
        except _GONE:
            return False
        finally:
            self.socket.settimeout(None)
        message.body.clear()
        return message.error is None

    def _recv(self) -> bytes:
        """Wait until the socket is readable, then read: a keep-alive client's next
        request is seldom there already when the previous answer leaves."""
        raw = self._raw
        if raw is None:
            return self.socket.recv(_RECV_SIZE)
        sock = self.socket
        sock._wait(sock._read_event)  # gevent's wait on the socket's own watcher
        try:
            return raw.recv(_RECV_SIZE)
        except BlockingIOError:  # woken, but another reader was first: wait again
            return sock.recv(_RECV_SIZE)

    def _send(self, data: bytes) -> None:
        """Send ``data`` whole: straight to the OS socket, and through gevent (which
        waits, under the send time-out) only for what the kernel did not take."""
        raw = self._raw
        if raw is None:
            self.socket.sendall(data)
            return
        try:
            sent = raw.send(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self.socket.sendall(memoryview(data)[sent:])

    def _receive(self) -> None:
        """Read more of the current request's body (and maybe of the ones after it)."""
        data = self._recv()
        if data:
            self.reader.feed(data)
        else:
            self.reader.feed_eof()

    # -- the response -----------------------------------------------------------------
    def start_response(self, status: str, headers: list, exc_info=None):
        """PEP 3333's ``start_response``."""
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self.status = status
        self.headers = headers
        return self._write

    def _send_result(self, result, method: str) -> int:
        """Send the application's status, headers and body; the body bytes sent."""
        if self.upgraded:
            return 0
        if not self.head_sent and type(result) is list and len(result) <= 1:
            body = result[0] if result else b""
            if self.status is None:
                raise AssertionError("the application returned without start_response")
            if not writer.body_allowed(self.status, method):
                self._send_head(None)
                return 0
            if type(body) is not bytes:
                raise TypeError(f"a WSGI body yields bytes, not {type(body).__name__}")
            self._send_head(len(body), body)
            if self._remaining:
                log.error("response shorter than its Content-Length: connection closed")
                self.keep_alive = False
            return len(body)
        sent = 0
        for data in result:
            if data or not self.head_sent:
                sent += self._write(data)
        if not self.head_sent:
            self._send_head(None if not writer.body_allowed(
                self.status, method) else 0)  # type: ignore[arg-type]  # set by now
        elif self._framing == writer.CHUNKED:
            self._send(writer.LAST_CHUNK)
        elif self._remaining is not None and self._remaining > 0:
            log.error("response shorter than its Content-Length: connection closed")
            self.keep_alive = False
        return sent

    def _write(self, data: bytes) -> int:
        """Send a piece of a streamed body (PEP 3333's ``write`` too)."""
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"a WSGI body yields bytes, not {type(data).__name__}")
            data = bytes(data)
        if not self.head_sent:
            if self.status is None:
                raise AssertionError("write() before start_response")
            method = self.message.method if self.message is not None else "GET"
            if not writer.body_allowed(self.status, method):
                self._send_head(None)
                return 0
            length = writer.declared_length(self.headers)  # before the head: the framing
            if length is not None:
                framing = length
            elif self.message is not None and self.message.version == "1.0":
                framing = writer.CLOSE_DELIMITED
            else:
                framing = writer.CHUNKED
            self._send_head(framing, data)
            return len(data)
        if self._framing is None:
            return 0  # a HEAD, 204 or 304: the body is not sent
        if not data:
            return 0
        if self._framing == writer.CHUNKED:
            self._send(writer.chunk(data))
        else:
            if self._remaining is not None:
                if len(data) > self._remaining:
                    log.error("response longer than its Content-Length: cut, connection "
                              "closed")
                    data = data[:self._remaining]
                    self.keep_alive = False
                self._remaining -= len(data)
            self._send(data)
        return len(data)

    def _send_head(self, framing: Optional[int], body: bytes = b"") -> None:
        message = self.message
        http10 = message is not None and message.version == "1.0"
        data, self.keep_alive, declared = writer.head(
            self.status,  # type: ignore[arg-type]  # set by now
            self.headers, framing, self.keep_alive, http10, writer.http_date())
        self.head_sent = True
        self._framing = framing
        self._remaining = None
        if framing is not None and framing >= 0:
            self._remaining = (declared if declared is not None else framing) - len(body)
            if self._remaining < 0:
                log.error("response longer than its Content-Length: cut, connection closed")
                body = body[:len(body) + self._remaining]
                self._remaining = 0
                self.keep_alive = False
        if body:
            if framing == writer.CHUNKED:
                body = writer.chunk(body)
            if len(body) <= _COALESCE_LIMIT:
                self._send(data + body)
                return
            self._send(data)
            self._send(body)
        else:
            self._send(data)

    # -- upgrades -------------------------------------------------------------------------
    def take_over(self, status: str, headers: list, run=None) -> RawStream:
        """Send ``status`` and ``headers`` now and hand the socket to the caller, with
        the bytes the client sent after the request's head; with ``run``, to
        ``run(stream)`` in a new greenlet, which owns the connection from then on."""
        if self.head_sent:
            raise RuntimeError("the response has already started")
        data, _, _ = writer.head(status, headers, None, True, False, writer.http_date(),
                                 upgrade=True)
        if run is None:
            self.socket.sendall(data)
        self.head_sent = self.upgraded = True
        self.status = status
        reader = self.reader
        leftover, reader.unparsed = reader.unparsed, b""
        reader.dead = True
        self.reader = _DONE_READER  # no more requests here: the parser is freed
        stream = RawStream(self.socket, leftover)
        if run is not None:
            self.detached = True
            # a raw greenlet: a gevent Greenlet object would cost a kilobyte more a
            # connection, for features (links, values) nothing uses here
            self.greenlet = gevent.spawn_raw(self._run_detached, run, stream, data)
        return stream

    def _run_detached(self, run, stream: RawStream, head: bytes) -> None:
        self.in_request = True  # a graceful stop waits for it, as for a request
        try:
            # The answer leaves here, right before ``run`` starts: nothing the client
            # sends after it can be handled before ``run`` has set itself up (joined a
            # broadcast group, say), as when both ran in the request's greenlet.
            try:
                self.socket.sendall(head)
            except _GONE:
                return  # the client left before its answer
            run(stream)
        finally:
            self.close()

    @property
    def can_detach(self) -> bool:
        """TLS keeps state beside the socket that non-blocking writes would have to
        handle: detached streams are for plain sockets."""
        return getattr(self.socket, "pending", None) is None

    def detach(self, status: str, headers: list) -> DetachedStream:
        """Send ``status`` and ``headers`` now and return the body's stream, which
        outlives this connection's greenlet and closes the connection when it ends."""
        if self.head_sent:
            raise RuntimeError("the response has already started")
        if not self.can_detach:
            raise RuntimeError("a TLS connection cannot be detached")
        http10 = self.message is not None and self.message.version == "1.0"
        framing = writer.CLOSE_DELIMITED if http10 else writer.CHUNKED
        self.status = status
        self.headers = headers
        data, _, _ = writer.head(status, headers, framing, False, http10, writer.http_date())
        self.socket.sendall(data)
        self.head_sent = self.upgraded = self.detached = True
        self.reader = _DONE_READER
        return DetachedStream(self, not http10,
                              self.server.safety_limits.response_send_timeout)


class _DoneReader:
    """The reader of a connection handed over to another protocol: nothing to read."""

    queue: deque = deque()
    dead = True
    paused = False
    in_head = False
    unparsed = b""


_DONE_READER: Any = _DoneReader()  # stands in for a RequestReader


class Input:
    """``wsgi.input``: the request body, read from the socket as the application asks.

    What a dispatcher reads is kept until the response starts, so that :meth:`rewind`
    can give it again to the next dispatcher when this one declines (the sequencer
    does); the safety limit on bodies bounds it.
    """

    __slots__ = ("_conn", "_message", "_read", "_replay", "recording")

    def __init__(self, conn: HTTPConnection, message: Message) -> None:
        self._conn = conn
        self._message = message
        self._read: list = []  # what was read, while recording
        self._replay: deque = deque()
        self.recording = True

    def _more(self) -> bool:
        """Wait for more body; False at its end.  Raises on a malformed or too large
        body, or a client gone."""
        message = self._message
        conn = self._conn
        if message.upgrade:
            if conn.upgraded:
                return False
            conn.reader.resume(message)
        if message.body:
            return True
        while not message.body:
            if message.error is not None:
                break
            if message.complete:
                return False
            if message.expect_continue and not conn.sent_continue:
                conn.sent_continue = True
                conn.socket.sendall(_CONTINUE)
            conn._receive()
        if message.error is not None:
            conn.keep_alive = False
            if message.error.status == 413:
                raise RequestEntityTooLarge(message.error.reason)
            raise BadRequest(f"malformed request body: {message.error.reason}")
        return True

    def _take(self, size: int) -> bytes:
        source = self._replay if self._replay else self._message.body
        if not source and not self._more():
            return b""
        source = self._replay if self._replay else self._message.body
        data = source.popleft()
        if 0 <= size < len(data):
            self._replay.appendleft(data[size:])
            data = data[:size]
        if self.recording:
            self._read.append(data)
        return data

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            parts: list[bytes] = []
            while True:
                data = self._take(-1)
                if not data:
                    return b"".join(parts)
                parts.append(data)
        parts = []
        while size > 0:
            data = self._take(size)
            if not data:
                break
            parts.append(data)
            size -= len(data)
        return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        return self._take(size if size is not None else -1)

    def readinto(self, buffer) -> int:
        data = self._take(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: Optional[int] = -1) -> bytes:
        parts = []
        limit = -1 if size is None else size
        while limit != 0:
            data = self._take(limit)
            if not data:
                break
            end = data.find(b"\n")
            if end >= 0 and end + 1 < len(data):
                rest = data[end + 1:]
                data = data[:end + 1]
                self._replay.appendleft(rest)
                if self.recording:
                    self._read[-1] = data
            parts.append(data)
            if end >= 0:
                break
            if limit > 0:
                limit -= len(data)
        return b"".join(parts)

    def readlines(self, hint: int = -1) -> list:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")

    def readable(self) -> bool:
        return True

    def rewind(self) -> bool:
        """Give what was read so far again, from the start; whether anything was read."""
        if not self._read:
            return False
        self._replay.extendleft(reversed(self._read))
        self._read = []
        return True

    def close(self) -> None:
        pass


class _EmptyInput:
    """``wsgi.input`` of a request without a body: one shared object."""

    recording = False

    def read(self, size: Optional[int] = -1) -> bytes:
        return b""

    read1 = readline = read

    def readinto(self, buffer) -> int:
        return 0

    def readlines(self, hint: int = -1) -> list:
        return []

    def __iter__(self):
        return iter(())

    def readable(self) -> bool:
        return True

    def rewind(self) -> bool:
        return False

    def close(self) -> None:
        pass


_EMPTY_INPUT = _EmptyInput()


class DispatchServer(StreamServer):
    """A gevent ``StreamServer`` serving a WSGI application over HTTP/1.1.

    ``max_concurrent`` connections are served at once (a gevent pool); the next ones wait
    in the listen backlog (``max_waiting``), as in Racket's server.
    """

    def __init__(self, listener, application: WSGIApp, *,
                 safety_limits: SafetyLimits = SafetyLimits(),
                 environ: Optional[dict] = None,
                 access_log: Union[bool, Callable, None] = None, spawn=None,
                 **ssl_args) -> None:
        # Set before gevent's __init__, which may call close() (see gunicorn.Server).
        self.safety_limits = safety_limits
        self.application = application
        if access_log is True:
            from .access_log import log_access as access_log
        #: called once a request is answered: (environ, status code, body bytes, seconds)
        self.access_log: Optional[Callable] = access_log or None  # type: ignore[assignment]
        self._shutdown_callbacks: dict[int, Callable[[], object]] = {}
        self._next_callback = 0
        self.connections: set = set()  # open connections (HTTPConnection)
        #: seconds before an idle keep-alive connection gives up its greenlet (None: never)
        self.park_after = _PARK_AFTER
        if isinstance(listener, tuple):
            ssl_args.setdefault("backlog", safety_limits.max_waiting)
        super().__init__(listener, self._handle_connection, spawn=spawn or "default", **ssl_args)
        #: the environ entries every request shares
        self.environ = {
            "wsgi.version": (1, 0), "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "https" if self.ssl_enabled else "http",
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": True, "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "gevent-dispatch", "SERVER_NAME": "", "SERVER_PORT": "",
            "REMOTE_ADDR": "", "REMOTE_PORT": "",
            MAX_BODY_KEY: self.safety_limits.max_request_body_length,
            SAFETY_LIMITS_KEY: self.safety_limits,
        }
        self.environ.update(environ or {})

    def start(self) -> None:
        super().start()
        self.environ["SERVER_NAME"] = self.server_host
        self.environ["SERVER_PORT"] = str(self.server_port)

    @property
    def server_port(self) -> int:
        address = self.address
        return address[1] if isinstance(address, tuple) else 0

    _server_host: Optional[str] = None

    @property
    def server_host(self) -> str:
        if self._server_host is None:
            address = self.address
            host = address[0] if isinstance(address, tuple) else "localhost"
            self._server_host = (host if host not in ("", "0.0.0.0", "::")
                                 else socket.gethostname())
        return self._server_host

    def _handle_connection(self, sock, address) -> None:
        conn = HTTPConnection(self, sock, address)
        self.connections.add(conn)
        if len(self.connections) >= self.safety_limits.max_concurrent:
            # max_concurrent connections are served; the next ones wait in the listen
            # backlog (max_waiting), as in Racket's server, until one closes.
            self.stop_accepting()
        conn.run()

    def wrap_socket_and_handle(self, client_socket, address):
        """TLS: gevent's version closes the TLS socket when the handler returns, but a
        parked keep-alive or detached connection outlives its handler."""
        try:
            tls_socket = self.wrap_socket(client_socket, **self.ssl_args)
        except (OSError, ValueError) as exc:  # a failed handshake: the client's doing
            log.debug("TLS handshake with %s failed: %s", address, exc)
            client_socket.close()
            return None
        return self.handle(tls_socket, address)

    def do_close(self, sock, *args) -> None:
        """gevent closes a client's socket when its handler returns; here a parked or
        detached connection outlives its greenlet, and HTTPConnection.close closes it."""

    def connection_closed(self, conn: HTTPConnection) -> None:
        self.connections.discard(conn)
        if (not self.closed and self.started
                and len(self.connections) < self.safety_limits.max_concurrent):
            self.start_accepting()  # a no-op while accepting

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
        finish for up to ``timeout`` seconds (gevent's default when ``None``); idle
        keep-alive connections close at once."""
        self.close()
        self.run_shutdown_callbacks()
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        while self.connections and time.monotonic() < deadline:
            for conn in list(self.connections):
                if not conn.in_request:
                    _end(conn)
            gevent.sleep(0.01)
        for conn in list(self.connections):
            _end(conn)
        super().stop(timeout=0)


def _end(conn: HTTPConnection) -> None:
    """End a connection at a stop: a parked one at once, others through their greenlet."""
    if conn.greenlet is None:
        conn.close()
    else:
        gevent.kill(conn.greenlet)  # a Greenlet or a raw greenlet


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


_warned_unpatched: list[str] = []


def warn_if_not_monkey_patched(who: str) -> bool:
    """Warn once when gevent has not patched the standard library: a blocking call
    (``time.sleep``, a socket, a Redis client) in a handler would then freeze every
    connection.  Returns whether it warned."""
    if gevent.monkey.is_module_patched("socket") or _warned_unpatched:
        return False
    _warned_unpatched.append(who)
    warnings.warn(
        f"{who}: gevent's monkey patching is not in effect, so a blocking call in a "
        "handler (time.sleep, sockets, Redis) stops every connection. Call "
        "gevent.monkey.patch_all() first thing in your program, before other imports.",
        RuntimeWarning, stacklevel=3)
    return True


def serve(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
          safety_limits: SafetyLimits = SafetyLimits(), reuse_port: bool = False,
          **server_options) -> Stopper:
    """Serve ``dispatch`` in the background; return the procedure that stops it.

    ``listen_ip=None`` listens on every interface, as Racket's ``#:listen-ip #f``;
    ``port=0`` takes a free port, which ``stopper.port`` tells.  ``reuse_port=True``
    lets several processes serve the same port.  ``safety_limits``:
    see :mod:`dispatch.safety_limits`.  ``server_options``: ``ssl_context=`` (or
    ``certfile=``/``keyfile=``) serves https and wss on the same port; ``access_log=True``
    logs each request to the ``dispatch.access`` logger (see :mod:`dispatch.access_log`),
    or a callable ``(environ, status_code, body_length, seconds)`` is called instead.
    """
    warn_if_not_monkey_patched("serve()")
    server_options.pop("log", None)  # pywsgi's access log: see access_log
    server_options.pop("error_log", None)
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
    warn_if_not_monkey_patched("serve_forever()")
    stop = serve(dispatch, port=port, listen_ip=listen_ip, **server_options)
    wait_then_stop(stop, gevent.event.Event(), stop_timeout)


def wait_then_stop(stop: Stopper, done: gevent.event.Event, stop_timeout: float) -> None:
    """Wait until ``done`` is set, SIGTERM or SIGINT arrives (or Ctrl-C), then stop the
    server gracefully within ``stop_timeout`` seconds."""
    handlers = []
    try:
        handlers = [gevent.signal_handler(signum, done.set)
                    for signum in (signal.SIGTERM, signal.SIGINT)]
    except ValueError:  # not the main thread: no signal handlers there
        pass
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
