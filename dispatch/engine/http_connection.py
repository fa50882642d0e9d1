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
from typing import TYPE_CHECKING, Any, Callable, Optional

import gevent
import greenlet

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..handle import HANDLER_KEY, Handle
from ..http11 import writer
from ..http11.environ import environ_for
from ..http11.reader import Message, ProtocolError, RequestReader
from .body import EMPTY_INPUT, Input
from .detached import DetachedStream
from .owner import ConnectionOwner
from .rawstream import DONE_READER, RawStream
from .socket_io import GONE, SocketIO
from .sockets import is_tls, os_socket

__all__ = ["HTTPConnection"]

log = logging.getLogger("dispatch.server")

# Requests served in a row without a wait (pipelined, or buffered by TLS) before a yield.
_REQUESTS_PER_TURN = 4


class _HeadTimeout(Exception):
    """The request head did not arrive in time."""


#: what _next_request returns when the connection has been idle for park_after
_PARK = object()


class HTTPConnection(SocketIO):
    """One client connection: it reads requests, runs the application, writes answers.

    Exposed to the application as ``environ["gevent_dispatch.handler"]``: a
    :class:`~dispatch.handle.Handle`.
    """

    # No __weakref__: compiled (mypyc), the class could not have one, and both twins
    # behave the same.
    __slots__ = ("address", "reader", "writer", "greenlet", "in_request", "message",
                 "upgraded", "sent_continue", "detached", "_idle_since", "_watchers")

    def __init__(self, server: ConnectionOwner, sock, address) -> None:
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
        self._raw = os_socket(sock)  # the hot paths' way around gevent's socket methods
        self._timed = False  # the send time-out is set on the socket
        self._no_output_yet()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # a Unix socket
        # Waiting for a request is bounded by the head's deadline (_next_request); the
        # socket's own time-out (which costs a timer per wait) is the send time-out, set
        # while a request is answered, the first time a wait on the socket may be needed
        # (see timed()).
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
                # Waiting for a plain socket lets the hub run the others: a new turn.
                waits = not self.reader.queue and self._raw is not None
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
                served = 1 if waits else served + 1
                if served > _REQUESTS_PER_TURN:
                    # Connections take turns: a client that pipelines never makes this
                    # greenlet wait, and then the hub would run no other.
                    served = 1
                    gevent.sleep(0)
                if not self._serve(message) or self.upgraded:
                    return
                self._idle_since = time.monotonic()
        except GONE:
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
        if self._unsent is not None:
            self._last_send()
        self.in_request = False
        self.greenlet = None
        self._unwatch()
        self.reader.close()
        sock, self.socket = self.socket, None
        try:
            sock.close()
        except OSError:
            pass
        self.server.connection_closed(self)

    def _next_request(self):
        """The next request, a :class:`ProtocolError`, ``_PARK``, or ``None`` at the end.
        Its waits are ended by the server's sweep (:meth:`sweep`), not by a timer of
        their own: starting and cancelling one cost more than a microsecond a request."""
        reader = self.reader
        queue = reader.queue
        if queue:
            return queue.popleft()
        if reader.dead:
            return None
        waiting = self.server.waiting
        while True:
            waited = time.monotonic() - self._idle_since
            limit = self.server.safety_limits.request_read_timeout
            if limit is not None and waited >= limit:
                if reader.in_head:
                    return ProtocolError(408, "the request head did not arrive in time")
                return None  # an idle keep-alive connection: closed without a word
            waiting.add(self)
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
                if not reader.in_head and self.server.park_after is not None:
                    return _PARK
            finally:
                waiting.discard(self)

    def sweep(self, now: float) -> None:
        """End this connection's wait for a request if it has lasted too long: it parks
        after ``park_after`` seconds idle, and a head still incomplete at the request
        read time-out is refused.  The server calls this, in the hub, for the
        connections in its ``waiting`` set."""
        waited = now - self._idle_since
        limit = self.server.safety_limits.request_read_timeout
        park_after = self.server.park_after
        if (limit is not None and waited >= limit) or (
                park_after is not None and waited >= park_after
                and not self.reader.in_head):
            self.server.waiting.discard(self)
            greenlet = self.greenlet
            if greenlet is not None:
                greenlet.throw(_HeadTimeout)  # where it waits in _next_request

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
        if self.in_request:
            self.timed()
        data = self._recv()
        if data:
            self.reader.feed(data)
        else:
            self.reader.feed_eof()

    # -- one request ----------------------------------------------------------------------
    def _serve(self, message: Message) -> bool:
        """Answer ``message``; return whether the connection stays open."""
        self.message = message
        self.in_request = True
        server = self.server
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
        started = time.monotonic() if server.access_log or _hooks.observer is not None else 0.0
        length = 0
        try:
            result = server.application(environ, self.start_response)
            try:
                length = self._send_result(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except GONE:
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
            # (an application may have set a time-out of its own: conn.set_timeout)
            if self.socket is not None and (self._timed or self.socket.timeout is not None):
                self._timed = False
                self.socket.settimeout(None)
        if server.access_log is not None:
            code = int(response.status[:3]) if response.status else None
            server.access_log(environ, code, length, time.monotonic() - started)
        if started and _hooks.observer is not None:
            _hooks.observer.request(message.method, response.status, time.monotonic() - started)
        if self.upgraded:
            response.headers = []  # it may live on for hours: the 101's headers go now
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
        except GONE:
            return False
        finally:
            self.socket.settimeout(None)
        message.body.clear()
        return message.error is None

    # -- upgrades ---------------------------------------------------------------------------
    def take_over(self, status: str, headers: list,
                  run: Optional[Callable[[Any], object]] = None) -> RawStream:
        """Send ``status`` and ``headers`` now and hand the socket to the caller, with
        the bytes the client sent after the request's head; with ``run``, to
        ``run(stream)`` in a new greenlet, which owns the connection from then on."""
        data = self.writer.upgrade(status, headers)
        self.drain()  # a pipelined request's answer goes first
        if run is None:
            self.timed()
            self.socket.sendall(data)
        self.upgraded = True
        reader = self.reader
        leftover, reader.unparsed = reader.unparsed, b""
        reader.close()
        self.reader = DONE_READER  # no more requests here: the parser is freed
        stream = RawStream(self.socket, leftover)
        if run is not None:
            self.detached = True
            # A plain greenlet, started by the hub: a gevent Greenlet would cost a
            # kilobyte more a connection for features (links, values) nothing uses
            # here, and spawn_raw's tracked greenlet records its spawn tree.
            hub = gevent.get_hub()
            self.greenlet = greenlet.greenlet(self._run_detached, hub)
            # (the head in a list it is taken from: a greenlet's first arguments stay
            # referenced as long as it runs)
            hub.loop.run_callback(self.greenlet.switch, run, stream, [data])
        return stream

    def _run_detached(self, run, stream: RawStream, box: list) -> None:
        self.in_request = True  # a graceful stop waits for it, as for a request
        try:
            # The answer leaves here, right before ``run`` starts: nothing the client
            # sends after it can be handled before ``run`` has set itself up (joined a
            # broadcast group, say), as when both ran in the request's greenlet.
            try:
                self.socket.sendall(box.pop())
            except GONE:
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
        self.drain()
        self.timed()
        self.socket.sendall(data)
        self.upgraded = self.detached = True
        self.reader.close()
        self.reader = DONE_READER
        return DetachedStream(self, not self.writer.http10,
                              self.server.safety_limits.response_send_timeout)




if TYPE_CHECKING:  # the type checker holds HTTPConnection to the interface it promises
    def _is_a_handle(conn: HTTPConnection) -> Handle:
        return conn
