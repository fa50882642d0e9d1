"""One client's HTTP/1.1 connection: read requests, run the WSGI application, send answers.

The I/O half of the engine.  Parsing is the sans-I/O :class:`~dispatch.http11.reader.
RequestReader`'s, framing the :class:`~dispatch.http11.writer.ResponseWriter`'s; this
module waits on the socket, sends what the writer returns, keeps the connection's fate
(keep-alive, pipelining, parking while idle, upgrades and detached streams) and is the
:class:`~dispatch.handle.Handle` the application reaches under ``HANDLER_KEY``.
"""
from __future__ import annotations

import logging
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import gevent

from ..handle import HANDLER_KEY
from ..http11 import writer
from ..http11.environ import environ_for
from ..http11.reader import Message, ProtocolError, RequestReader
from .body import EMPTY_INPUT, Input
from .detached import DetachedStream
from .rawstream import RawStream
from .sockets import is_tls, os_socket, wait_readable

if TYPE_CHECKING:
    from .listener import DispatchServer

__all__ = ["HTTPConnection"]

log = logging.getLogger("dispatch.server")

# Keep-alive requests a connection is served in a row before the others' turn.
_REQUESTS_PER_TURN = 4
_RECV_SIZE = 65536
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented",
            505: "HTTP Version Not Supported"}
# Errors of a client that went away or stopped reading: the connection just ends.
_GONE = (ConnectionError, socket.timeout, TimeoutError, OSError)


class _HeadTimeout(Exception):
    """The request head did not arrive in time."""


#: what _next_request returns when the connection has been idle for park_after
_PARK = object()


class HTTPConnection:
    """One client connection: it reads requests, runs the application, writes answers.

    Exposed to the application as ``environ["gevent_dispatch.handler"]``: a
    :class:`~dispatch.handle.Handle`.
    """

    # No __weakref__: compiled (mypyc), the class could not have one, and both twins
    # behave the same.
    __slots__ = ("server", "socket", "address", "reader", "writer", "greenlet",
                 "in_request", "message", "upgraded", "sent_continue", "detached",
                 "_idle_since", "_watchers", "_timer", "_raw")

    def __init__(self, server: DispatchServer, sock, address) -> None:
        self.server = server
        self.socket = sock
        self.address = address
        limits = server.safety_limits
        self.reader: Any = RequestReader(  # a _DoneReader once handed over
            limits.max_request_line_length, limits.max_request_headers,
            limits.max_request_header_length, limits.max_request_body_length,
            limits.max_form_data_length)
        self.writer = writer.ResponseWriter()
        #: the greenlet serving this connection; None while it is parked
        self.greenlet = gevent.getcurrent()
        #: whether a request is being answered (else a graceful stop may close at once)
        self.in_request = False
        self.message: Optional[Message] = None
        self.upgraded = False
        self.sent_continue = False
        #: the socket belongs to a DetachedStream, which closes it
        self.detached = False
        self._idle_since = time.monotonic()
        self._watchers: Optional[tuple] = None
        self._timer: Optional[gevent.Timeout] = None  # the head's deadline, reused
        self._raw = os_socket(sock)  # the hot paths' way around gevent's socket methods
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # a Unix socket
        # Waiting for a request is bounded by the head's deadline (_next_request); the
        # socket's own time-out (which costs a timer per wait) is the send time-out, set
        # while a request is answered.
        sock.settimeout(None)

    # -- the Handle interface -------------------------------------------------------------
    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at the server's graceful stop; returns the canceller."""
        return self.server.at_shutdown(callback)

    @property
    def can_detach(self) -> bool:
        """TLS keeps state beside the socket that non-blocking writes would have to
        handle: detached streams are for plain sockets."""
        return not is_tls(self.socket)

    # -- the connection's loop ------------------------------------------------------------
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
                    self.refuse(message)
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
        park_after = self.server.park_after
        while True:
            waited = time.monotonic() - self._idle_since
            if limit is not None and waited >= limit:
                if reader.in_head:
                    return ProtocolError(408, "the request head did not arrive in time")
                return None  # an idle keep-alive connection: closed without a word
            seconds = None if limit is None else limit - waited
            park = (not reader.in_head and park_after is not None
                    and (seconds is None or seconds > park_after))
            if park:
                # The common wait, with the same length each time: one timer, reused.
                seconds = park_after
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

    # -- parking: an idle keep-alive connection without a greenlet ------------------------
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
            expiry.start(self.close)
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

    # -- reading and sending --------------------------------------------------------------
    def receive(self) -> None:
        """Read what the client sent next into the reader (its end, at end of stream)."""
        data = self._recv()
        if data:
            self.reader.feed(data)
        else:
            self.reader.feed_eof()

    def _recv(self) -> bytes:
        """Wait until the socket is readable, then read: a keep-alive client's next
        request is seldom there already when the previous answer leaves."""
        raw = self._raw
        if raw is None:
            return self.socket.recv(_RECV_SIZE)
        wait_readable(self.socket)
        try:
            return raw.recv(_RECV_SIZE)
        except BlockingIOError:  # woken, but another reader was first: wait again
            return self.socket.recv(_RECV_SIZE)

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

    def _send_all(self, pieces: list) -> None:
        for data in pieces:
            self._send(data)

    def refuse(self, error: ProtocolError) -> None:
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

    # -- one request ----------------------------------------------------------------------
    def _serve(self, message: Message) -> bool:
        """Answer ``message``; return whether the connection stays open."""
        self.message = message
        self.in_request = True
        server = self.server
        self.socket.settimeout(server.safety_limits.response_send_timeout)
        self.sent_continue = False
        response = self.writer
        response.reset(message.method, message.version == "1.0", message.keep_alive)
        environ = environ_for(message, server.environ)
        environ[HANDLER_KEY] = self
        address = self.address
        if type(address) is tuple:
            environ["REMOTE_ADDR"] = address[0]
            environ["REMOTE_PORT"] = str(address[1])
        environ["wsgi.input"] = (Input(self, message) if message.body or not message.complete
                                 else EMPTY_INPUT)
        started = time.monotonic() if server.access_log is not None else 0.0
        length = 0
        try:
            result = server.application(environ, self.start_response)
            try:
                length = self._send_result(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except _GONE:
            return False
        except Exception:
            log.exception("error answering %s %s", message.method, environ.get("PATH_INFO"))
            if response.head_sent or self.upgraded:
                return False
            self.refuse(ProtocolError(500, "Internal Server Error"))
            return False
        finally:
            self.in_request = False
            self.message = None
            if self.socket is not None:
                self.socket.settimeout(None)
        if server.access_log is not None:
            code = int(response.status[:3]) if response.status else None
            server.access_log(environ, code, length, time.monotonic() - started)
        if self.upgraded:
            return False
        if not response.keep_alive:
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
                self.receive()
        except _GONE:
            return False
        finally:
            self.socket.settimeout(None)
        message.body.clear()
        return message.error is None

    def start_response(self, status: str, headers: list, exc_info=None) -> Callable:
        """PEP 3333's ``start_response``; returns the ``write`` callable."""
        self.writer.start(status, headers, exc_info)
        return self._write

    def _send_result(self, result) -> int:
        """Send the application's answer; the body bytes sent."""
        if self.upgraded:
            return 0
        response = self.writer
        if not response.head_sent and type(result) is list and len(result) <= 1:
            body = result[0] if result else b""
            self._send_all(response.whole(body))
            return len(body) if response.framing is not None else 0
        sent = 0
        for data in result:
            if data or not response.head_sent:
                sent += self._write(data)
        self._send_all(response.end())
        return sent

    def _write(self, data: Union[bytes, bytearray, memoryview]) -> int:
        """Send a piece of a streamed body (PEP 3333's ``write`` too)."""
        response = self.writer
        pieces = response.write(data)
        self._send_all(pieces)
        return len(data) if response.framing is not None else 0

    # -- upgrades ---------------------------------------------------------------------------
    def take_over(self, status: str, headers: list,
                  run: Optional[Callable[[Any], object]] = None) -> RawStream:
        """Send ``status`` and ``headers`` now and hand the socket to the caller, with
        the bytes the client sent after the request's head; with ``run``, to
        ``run(stream)`` in a new greenlet, which owns the connection from then on."""
        data = self.writer.upgrade(status, headers)
        if run is None:
            self.socket.sendall(data)
        self.upgraded = True
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

    def detach(self, status: str, headers: list) -> DetachedStream:
        """Send ``status`` and ``headers`` now and return the body's stream, which
        outlives this connection's greenlet and closes the connection when it ends."""
        if not self.can_detach:
            raise RuntimeError("a TLS connection cannot be detached")
        data = self.writer.detach(status, headers)
        self.socket.sendall(data)
        self.upgraded = self.detached = True
        self.reader = _DONE_READER
        return DetachedStream(self, not self.writer.http10,
                              self.server.safety_limits.response_send_timeout)


class _DoneReader:
    """The reader of a connection handed over to another protocol: nothing to read."""

    def __init__(self) -> None:
        # (set here: mypyc gives a class no mutable default like a deque)
        self.queue: deque = deque()
        self.dead = True
        self.paused = False
        self.in_head = False
        self.unparsed = b""


_DONE_READER = _DoneReader()
