"""A WebSocket connection over gevent, and the rfc6455 connection API.

Racket: ``net/rfc6455``'s ``ws-conn`` and its procedures.  The greenlet that calls
:func:`ws_recv` reads the socket itself (no reader greenlet per connection: one switch
less per message, one greenlet less per idle connection), at most ``max_queue`` messages
ahead; sends from any greenlet are serialised by a lock, bounded by ``max_send_buffer``
and ``send_timeout``.  Pings, pong and idle time-outs are entries on one shared timer
heap (``timers.py``), not a greenlet per connection.
"""
from __future__ import annotations

import io
import logging
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import IO, Optional, Union

import gevent
from gevent.event import AsyncResult, Event
from gevent.exceptions import ConcurrentObjectUseError
from gevent.lock import Semaphore
from werkzeug.datastructures import EnvironHeaders, Headers

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..engine.sockets import os_socket, os_socket_of, wait_readable
from .protocol import (
    CLOSE_ABNORMAL,
    CLOSE_GOING_AWAY,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Protocol,
    ProtocolError,
    valid_close_code,
)
from .timers import timers

__all__ = [
    "EOF", "ConnectionClosed", "WSOptions", "WebSocketConnection", "is_eof", "ws_close",
    "ws_conn_close_reason", "ws_conn_close_status", "ws_conn_closed", "ws_conn_headers",
    "ws_conn_line", "ws_conn_path", "ws_conn_subprotocol", "ws_recv", "ws_recv_evt",
    "ws_recv_stream", "ws_send",
]

log = logging.getLogger("dispatch.websocket")


class _EOF:
    """What :func:`ws_recv` returns once the peer has closed.  Racket: ``eof``."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "EOF"

    def __bool__(self) -> bool:
        return False


EOF = _EOF()

# Headers of unmasked, unfragmented text frames of 0-125 bytes.
_TEXT_HEADS = [bytes((0x81, n)) for n in range(126)]


def is_eof(value) -> bool:
    """Racket: ``eof-object?``."""
    return value is EOF


class ConnectionClosed(ConnectionError):
    """Sending on a connection that is closed or was dropped."""


class EnvironFields(tuple):
    """The header fields of a request environ, as ``(key, value)`` pairs
    (``("HTTP_COOKIE", "a=1")``): see :func:`fields_of`."""


def fields_of(environ: dict) -> EnvironFields:
    """What a WebSocket connection keeps of its handshake's header fields."""
    return EnvironFields((key, value) for key, value in environ.items()
                         if key[:5] == "HTTP_" or key == "CONTENT_TYPE"
                         or key == "CONTENT_LENGTH")


@dataclass(frozen=True)
class WSOptions:
    """Limits and keep-alive of every connection a dispatcher accepts.

    ``max_message_size``: larger messages close the connection with 1009 (``None``: no
    limit); a compressed message is held to it both as sent and once inflated.
    ``max_queue``: received messages waiting for :func:`ws_recv`; when that many wait,
    the connection stops reading (the peer's sends then block: backpressure).
    ``ping_interval``: seconds between pings (``None``: never); ``pong_timeout``: a peer
    that has not answered a ping by then is dropped.  ``idle_timeout``: a connection
    with no frame from the peer for this long is closed with 1001 (Racket's
    ``ws-idle-timeout``, 300 s).  ``send_timeout``: a send that the peer does not take
    for this long drops the connection (``None``: wait for ever).  ``max_send_buffer``:
    bytes that may wait behind a send in progress before the connection is dropped as
    too slow.  ``close_timeout``: how long a closing handshake waits for the peer.
    """

    max_message_size: Optional[int] = 1 << 20
    ping_interval: Optional[float] = 20.0
    pong_timeout: Optional[float] = 20.0
    idle_timeout: Optional[float] = 300.0
    max_send_buffer: int = 4 << 20
    close_timeout: float = 5.0
    send_timeout: Optional[float] = 30.0
    max_queue: int = 16

    def __post_init__(self) -> None:
        if self.max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        for name in ("ping_interval", "pong_timeout", "idle_timeout", "send_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive (or None), not {value!r}")
        if not self.close_timeout > 0:
            raise ValueError("close_timeout must be positive")


def check_close(status: int, reason: str) -> bytes:
    """The close frame payload's reason, or ValueError for what RFC 6455 forbids: a code
    outside 1000-1003, 1007-1014 and 3000-4999, a reason over 123 bytes of UTF-8."""
    if not isinstance(status, int) or not valid_close_code(status):
        raise ValueError(f"invalid close code {status!r}: use 1000, another code of "
                         f"RFC 6455 7.4.1, or 3000-4999")
    if not isinstance(reason, str):
        raise ValueError("a close reason is a str")
    data = reason.encode("utf-8")
    if len(data) > 123:
        raise ValueError("a close reason may take at most 123 bytes of UTF-8")
    return data


class WebSocketConnection:
    """An open WebSocket.  Racket: ``ws-conn?`` values.

    Reading is done by whichever greenlet needs it (the handler in :func:`ws_recv`, or a
    short-lived one waiting for a pong): one at a time, never more than ``max_queue``
    messages ahead.  Timers live on the process's one :class:`~.timers.TimerHeap`.
    """

    # Slots: past 30 attributes an instance's dict costs ~1.6 KiB per connection. A
    # ``__dict__`` slot still lets applications attach their own attributes.
    __slots__ = (
        "stream", "protocol", "subprotocol", "request_line", "_headers", "path", "options",
        "close_status", "close_reason", "closed", "_close_sent", "_dropped", "_inbox",
        "_reading", "_read_turn", "_want_read", "_released", "_send_lock",
        "_waiting_to_send", "_sock", "_raw", "_leftover", "_drained", "_send_timeout",
        "_fragmenting", "_plain_below", "_last_seen", "_next_ping", "_pong_due",
        "_close_due", "_timer", "__dict__", "__weakref__")

    @property
    def headers(self):
        """The handshake request's headers.  Racket: ``ws-conn-headers``."""
        headers = self._headers
        if type(headers) is EnvironFields:
            headers = self._headers = Headers(list(EnvironHeaders(dict(headers)).items()))
        return headers

    def __init__(self, stream, protocol: Protocol, *, subprotocol: Optional[str] = None,
                 request_line: str = "", headers=(), path: str = "",
                 options: WSOptions = WSOptions()) -> None:
        self.stream = stream
        self.protocol = protocol
        self.subprotocol = subprotocol
        self.request_line = request_line
        # Either headers, or the request's environ pairs made into headers on first use
        # (see fields_of): an idle connection then keeps only the values, as the
        # environ keys are the engine's shared strings.
        self._headers = headers
        self.path = path
        self.options = options
        self.close_status: Optional[int] = None
        self.close_reason: Optional[str] = None
        self.closed = False  # no more messages will be received
        self._close_sent = False
        self._dropped = False
        # Made when a message must wait, dropped once empty: ~600 bytes per idle
        # connection otherwise.
        self._inbox: Optional[deque] = None
        self._reading = False  # a greenlet is reading the socket
        self._read_turn: Optional[Event] = None  # made when a second one must wait
        self._want_read = 0  # greenlets waiting for their turn to read
        self._released = False
        # Made when a send must wait for another (most never do): a Semaphore costs an
        # idle connection 150 bytes.
        self._send_lock: Optional[Semaphore] = None
        self._waiting_to_send = 0
        self._sock = sock = getattr(stream, "socket", stream)
        # A plain gevent socket is read and written through its OS socket (non-blocking)
        # when that cannot block, and waited on through gevent otherwise: no failed
        # recv() and no exception before each wait, no Python wrapper per call.  TLS
        # sockets (and anything else) go through their own methods.
        self._raw = os_socket(sock)
        self._leftover = bool(getattr(stream, "_leftover", b""))
        self._drained = False  # the last read emptied the socket: wait before the next
        self._send_timeout = options.send_timeout
        self._fragmenting = False
        # Messages shorter than this go uncompressed in a 2-byte-header frame.
        deflate = protocol.deflate
        self._plain_below = 0 if protocol.client else min(
            126, deflate.compress_min if deflate is not None else 126)
        now = time.monotonic()
        self._last_seen = now
        self._next_ping = now + options.ping_interval if options.ping_interval else None
        self._pong_due: Optional[float] = None
        self._close_due: Optional[float] = None
        self._timer: Optional[list] = None  # this connection's entry on the timer heap
        # No socket time-out on reads: gevent would arm a timer around every wait. The
        # shared timer heap does pings and idle time-outs; sends set one while they run.
        stream.settimeout(None)
        self._schedule()

    # -- timers ----------------------------------------------------------------------

    def _schedule(self) -> None:
        """(Re)arm this connection's one entry on the shared timer heap."""
        heap = timers()
        heap.cancel(self._timer)
        self._timer = None
        if self._dropped:
            return
        options = self.options
        if self._close_sent:
            self._next_ping = None  # no pings during the closing handshake
        due = [t for t in (self._next_ping, self._pong_due, self._close_due) if t]
        if options.idle_timeout and self._close_due is None:
            due.append(self._last_seen + options.idle_timeout)
        if due:
            self._timer = heap.call_at(min(due), self._on_timer)

    def _on_timer(self) -> None:
        """Runs in the timer heap's greenlet: decide, spawn whatever may block."""
        self._timer = None
        if self._dropped:
            return
        now = time.monotonic()
        options = self.options
        if self._close_due is not None and now >= self._close_due:
            self._drop("no answer to our close frame before the close timeout")
            return
        if self._pong_due is not None and now >= self._pong_due:
            self._drop("no pong before the pong timeout")
            return
        if (options.idle_timeout and self._close_due is None
                and now - self._last_seen >= options.idle_timeout):
            if self.close_status is None:
                self.close_status, self.close_reason = CLOSE_GOING_AWAY, "idle timeout"
            self._close_due = now + options.close_timeout
            self._next_ping = self._pong_due = None
            self._close_sent = True
            gevent.spawn(self._send_control, self.protocol.encode_close(
                CLOSE_GOING_AWAY, "idle timeout"))
        elif self._next_ping is not None and now >= self._next_ping:
            # (Always moved on: a deadline left in the past would fire again at once.)
            interval: float = options.ping_interval  # type: ignore[assignment]  # set here
            self._next_ping = now + interval
            if self._pong_due is None and not self._close_sent:
                self._pong_due = now + (options.pong_timeout or interval)
                gevent.spawn(self._ping)
        self._schedule()

    def _send_control(self, frame: bytes) -> None:
        try:
            self._send_raw(frame, control=True)
        except ConnectionClosed:
            pass

    def _ping(self) -> None:
        """Send a ping, then, if nobody else is reading, read until the pong comes (or
        the queue is full: a handler that does not read its messages loses the peer at
        the pong time-out, as with ``websockets``)."""
        self._send_control(self.protocol.encode_frame(OP_PING, b"keepalive"))
        while (self._pong_due is not None and not self._dropped and not self.closed
               and not self._reading
               and len(self._inbox or ()) < self.options.max_queue):
            self._read_once()
            if self._want_read:
                return  # the handler wants to read: it will see the pong

    # -- receiving -------------------------------------------------------------------

    def recv(self) -> Union[str, bytes, _EOF]:
        """The next message: ``str`` (text), ``bytes`` (binary), or :data:`EOF`."""
        while True:
            inbox = self._inbox
            if inbox:
                message = inbox.popleft()
                if not inbox:
                    self._inbox = None
                return message
            if self.closed:
                return EOF
            if self._reading:
                self._wait_read_turn()
            else:
                message = self._read_once(True)
                if message is not None:
                    return message

    def _wait_read_turn(self) -> None:
        turn = self._read_turn
        if turn is None:
            turn = self._read_turn = Event()
        turn.clear()
        self._want_read += 1
        try:
            turn.wait()
        finally:
            self._want_read -= 1

    def _read_once(self, want: bool = False):
        """Read what the socket has and handle the frames in it (one reader at a time).
        ``want``: the caller wants a message; the first one is returned rather than
        queued when nothing is queued before it."""
        self._reading = True
        message = None
        try:
            try:
                # Mid-way through a large frame, ask for more at once: fewer wake-ups.
                data = self._recv(1 << 20 if self.protocol.buffered else 65536)
            except socket.timeout:
                return  # a send set the socket's time-out while this read waited
            except (OSError, ConcurrentObjectUseError):  # the latter: closed meanwhile
                data = b""
            if not data:
                self._lost()
                return
            self._last_seen = time.monotonic()
            try:
                events = self.protocol.receive_data(data)
            except ProtocolError as exc:
                log.info("closing the WebSocket on %s: %s", self.path, exc.reason)
                self._fail(exc.code, exc.reason[:100])
                return
            for opcode, payload in events:
                if opcode == OP_TEXT or opcode == OP_BINARY:
                    if self._close_sent:
                        continue  # after our close frame, messages are discarded
                    if _hooks.observer is not None and not self.protocol.client:
                        _hooks.observer.websocket_received()
                    if want and message is None and self._inbox is None:
                        message = payload
                    else:
                        inbox = self._inbox
                        if inbox is None:
                            inbox = self._inbox = deque()
                        inbox.append(payload)
                elif opcode == OP_PING:
                    if not self._close_sent:
                        self._send_control(self.protocol.encode_frame(OP_PONG, payload))
                elif opcode == OP_PONG:
                    self._pong_due = None
                elif opcode == OP_CLOSE:
                    self._peer_closed(*payload)
        finally:
            self._reading = False
            turn = self._read_turn
            if turn is not None:
                turn.set()
            if self._dropped:
                self._release()
        return message

    def _recv(self, size: int) -> bytes:
        raw = self._raw
        if raw is None or self._leftover:
            data = self.stream.read1(size)
            if self._leftover:
                self._leftover = bool(self.stream._leftover)
            return data
        sock = self._sock
        if self._drained:
            # The last read took all there was and we answered: the peer's next frame
            # is a round trip away, so wait for it rather than fail a recv() first.
            wait_readable(sock)
        while True:
            try:
                data = raw.recv(size)
            except BlockingIOError:
                data = None  # wait outside the handler: its exception would wait too
            if data is None:
                wait_readable(sock)
                continue
            self._drained = len(data) < size
            return data

    def _peer_closed(self, code: int, reason: str) -> None:
        self.closed = True
        if self.close_status is None:
            self.close_status, self.close_reason = code, reason
        if not self._close_sent:
            echo = CLOSE_NORMAL if code == CLOSE_NO_STATUS else code
            self._send_close(echo, "")
        self._shutdown()

    def _lost(self) -> None:
        """The socket ended without a closing handshake."""
        self.closed = True
        if self.close_status is None:
            self.close_status, self.close_reason = CLOSE_ABNORMAL, ""
        if not self._dropped and not self.protocol.close_received and not self._close_sent:
            log.info("dropping the WebSocket on %s: the peer went away without a close "
                     "frame", self.path)
        self._shutdown()

    def _fail(self, code: int, reason: str) -> None:
        """Close because of an error on our side of the reading (RFC 6455 7.1.7)."""
        self.closed = True
        if self.close_status is None:
            self.close_status, self.close_reason = code, reason
        if not self._close_sent:
            self._send_close(code, reason)
            self._await_peer_close()
        self._shutdown()

    def _await_peer_close(self) -> None:
        """After our close frame: read until the peer's, or end of stream, or time-out.
        What the peer still sends is read and skipped (not buffered), so that it gets
        our close frame instead of a reset connection."""
        deadline = time.monotonic() + self.options.close_timeout
        try:
            while not self.protocol.close_received and not self._dropped:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                data = None
                with gevent.Timeout(remaining, False):
                    data = self.stream.read1(65536)
                if not data:
                    return
                try:
                    for opcode, payload in self.protocol.receive_data(data):
                        if opcode == OP_CLOSE and self.close_status in (None, CLOSE_ABNORMAL):
                            self.close_status, self.close_reason = payload
                except ProtocolError:
                    continue  # the parser now skips to the peer's close frame
        except (OSError, ConcurrentObjectUseError):  # the latter: closed meanwhile
            return

    # -- sending ---------------------------------------------------------------------

    def send(self, payload: Union[str, bytes, IO], final_fragment: bool = True,
             payload_type: str = "text") -> None:
        if type(payload) is str and payload_type == "text" and final_fragment \
                and not self._fragmenting:
            # The common case first: a whole text message, small ones framed here.
            data = payload.encode("utf-8")
            if len(data) < self._plain_below:
                self._send_raw(_TEXT_HEADS[len(data)] + data)
            else:
                self._send_raw(self.protocol.encode_message(data, binary=False))
            if _hooks.observer is not None and not self.protocol.client:
                _hooks.observer.websocket_sent()
            return
        if hasattr(payload, "read"):
            self._send_stream(payload, payload_type)  # type: ignore[arg-type]
            return
        if payload_type == "continuation":
            if not self._fragmenting:
                raise ValueError("a continuation frame needs a message begun with "
                                 "final_fragment=False")
            opcode = OP_CONTINUATION
        elif payload_type in ("text", "binary"):
            if self._fragmenting:
                raise ValueError("the message being sent in fragments is not finished")
            opcode = OP_TEXT if payload_type == "text" else OP_BINARY
        else:
            raise ValueError(f"payload_type must be 'text', 'binary' or 'continuation', "
                             f"not {payload_type!r}")
        if opcode == OP_TEXT and isinstance(payload, bytes):
            payload.decode("utf-8")  # a text message must be UTF-8: check it here
        if final_fragment and opcode != OP_CONTINUATION:
            frame = self.protocol.encode_message(payload, binary=opcode == OP_BINARY)
        else:
            data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
            frame = self.protocol.encode_frame(opcode, data, fin=final_fragment)
        self._fragmenting = not final_fragment
        self._send_raw(frame)
        if _hooks.observer is not None and final_fragment and not self.protocol.client:
            _hooks.observer.websocket_sent()

    def _send_stream(self, source: IO, payload_type: str, chunk: int = 65536) -> None:
        """A message read from a file-like object, sent as fragments as it is read."""
        if payload_type not in ("text", "binary"):
            raise ValueError("a streamed message is 'text' or 'binary'")
        kind = payload_type
        data = source.read(chunk)
        while True:
            following = source.read(chunk)
            self.send(data if data is not None else b"", final_fragment=not following,
                      payload_type=kind)
            if not following:
                return
            data, kind = following, "continuation"

    def _send_raw(self, frame: bytes, control: bool = False) -> None:
        if self._dropped or (self._close_sent and not control):
            raise ConnectionClosed("the WebSocket is closed")
        lock = self._send_lock
        raw = self._raw
        if raw is not None and (lock is None or not lock.locked()):
            # Nobody is sending: try at once, without the lock (nothing can switch
            # greenlets between the check and the send). Most frames go whole here.
            try:
                sent = raw.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._drop(f"send failed: {exc}")
                raise ConnectionClosed(str(exc)) from None
            if sent == len(frame):
                return
            if sent:
                frame = memoryview(frame)[sent:]  # type: ignore[assignment]
        size = len(frame)
        if lock is None:
            lock = self._send_lock = Semaphore()
        elif lock.locked():
            # The bound is on what queues up behind a send in progress: one large
            # message on an idle connection always goes.
            if not control and self._waiting_to_send + size > self.options.max_send_buffer:
                self._drop("the peer reads too slowly: send buffer full")
                raise ConnectionClosed("the peer reads too slowly; connection dropped")
        self._waiting_to_send += size
        try:
            with lock:
                if self._dropped:
                    raise ConnectionClosed("the WebSocket is closed")
                sock = self._sock
                # The time-out is set only while sending: a peer that does not read
                # cannot hold the connection, and reads never pay for a timer.
                sock.timeout = self._send_timeout
                try:
                    sent = sock.send(frame)
                    if sent < size:
                        sock.sendall(memoryview(frame)[sent:])
                finally:
                    sock.timeout = None
        except socket.timeout:
            self._drop("the peer did not read for the send timeout")
            raise ConnectionClosed("send timed out; connection dropped") from None
        except OSError as exc:
            self._drop(f"send failed: {exc}")
            raise ConnectionClosed(str(exc)) from None
        finally:
            self._waiting_to_send -= size
            if self._dropped:
                self._release()

    def _send_close(self, code: int, reason: str) -> None:
        self._close_sent = True
        try:
            self._send_raw(self.protocol.encode_close(code, reason), control=True)
        except ConnectionClosed:
            pass

    # -- closing ---------------------------------------------------------------------

    def close(self, status: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Start (or finish) the closing handshake, wait for the peer's answer (bounded),
        and release the socket.  An invalid ``status`` or ``reason`` is a ValueError
        raised before anything is sent: the connection stays open and usable."""
        check_close(status, reason)
        self._close(status, reason)

    def _close(self, status: int, reason: str) -> None:
        if self._dropped:
            return
        if not self._close_sent:
            self._send_close(status, reason)
        if self.close_status is None:
            self.close_status, self.close_reason = status, reason
        if not self.protocol.close_received:
            while self._reading and not self._dropped:
                self._wait_read_turn()
            self._reading = True
            try:
                self._await_peer_close()
            finally:
                self._reading = False
        self.closed = True
        self._shutdown()
        self._release()

    def close_for_shutdown(self) -> None:
        """The server is going away: 1001, and the handler's ``ws_recv`` sees EOF."""
        if not self._close_sent and not self._dropped:
            self._close_sent = True
            self._close_due = time.monotonic() + self.options.close_timeout
            self._schedule()
            gevent.spawn(self._send_control, self.protocol.encode_close(
                CLOSE_GOING_AWAY, "server shutting down"))
        self.closed = True
        turn = self._read_turn
        if turn is not None:
            turn.set()

    def finish(self, status: int = CLOSE_NORMAL, reason: str = "") -> None:
        """The handler returned: close cleanly if it did not, then release everything."""
        try:
            if not self._dropped:
                self._close(status, reason)
        finally:
            self._shutdown()

    def _drop(self, why: str) -> None:
        """Drop an unresponsive peer: one INFO line, no traceback (it is expected)."""
        if not self._dropped:
            log.info("dropping the WebSocket on %s: %s", self.path, why)
        self.closed = True
        if self.close_status is None:
            self.close_status, self.close_reason = CLOSE_ABNORMAL, why
        self._shutdown()

    def _shutdown(self) -> None:
        if self._dropped:
            return
        self._dropped = True
        self.closed = True
        timers().cancel(self._timer)
        self._timer = None
        sock = self._sock
        try:
            # Shut down the OS socket itself (not gevent's wrapper, which would throw
            # "cancel_wait" errors into the greenlets blocked on it): a blocked sender
            # or reader wakes up with an ordinary error or end of stream.
            os_socket_of(sock).shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        turn = self._read_turn
        if turn is not None:
            turn.set()
        self._release()

    def _release(self) -> None:
        """Close the socket once nobody is blocked on it (whoever is wakes up from the
        shutdown and calls this again on the way out)."""
        lock = self._send_lock
        if not self._released and not self._reading and (lock is None or not lock.locked()):
            self._released = True
            self.stream.close()


# -- the rfc6455 API ---------------------------------------------------------------------

def ws_send(conn: WebSocketConnection, payload: Union[str, bytes, IO],
            final_fragment: bool = True, payload_type: str = "text") -> None:
    """Send a message or a fragment.  Racket: ``ws-send!``.

    ``payload_type`` is ``'text'``, ``'binary'`` or ``'continuation'``; with
    ``final_fragment=False`` the message goes on with ``'continuation'`` sends.  A
    file-like ``payload`` is read and sent in fragments.
    """
    conn.send(payload, final_fragment=final_fragment, payload_type=payload_type)


def ws_recv(conn: WebSocketConnection, payload_type: str = "auto"):
    """The next message, or :data:`EOF` once the peer closed.  Racket: ``ws-recv``.

    ``'auto'``: ``str`` for text, ``bytes`` for binary; ``'text'`` always ``str``;
    ``'binary'`` always ``bytes``.
    """
    message = conn.recv()
    if message is EOF or payload_type == "auto":
        return message
    if payload_type == "text":
        return message if isinstance(message, str) else \
            message.decode("utf-8", "replace")  # type: ignore[union-attr]  # EOF: above
    if payload_type == "binary":
        return message.encode("utf-8") if isinstance(message, str) else message
    raise ValueError(f"payload_type must be 'auto', 'text' or 'binary', not {payload_type!r}")


def ws_recv_evt(conn: WebSocketConnection, payload_type: str = "auto") -> AsyncResult:
    """An event that becomes ready with the next message, to wait on together with
    others: ``gevent.wait([ws_recv_evt(c), other_event], count=1)``.
    Racket: ``ws-recv-evt``."""
    result = AsyncResult()
    gevent.spawn(lambda: result.set(ws_recv(conn, payload_type)))
    return result


def ws_recv_stream(conn: WebSocketConnection) -> Union[io.BytesIO, io.StringIO, _EOF]:
    """The next message as a readable stream (``StringIO`` for text).
    Racket: ``ws-recv-stream``."""
    message = conn.recv()
    if message is EOF:
        return EOF
    return io.StringIO(message) if isinstance(message, str) else \
        io.BytesIO(message)  # type: ignore[arg-type]  # EOF: above


def ws_close(conn: WebSocketConnection, status: int = CLOSE_NORMAL, reason: str = "") -> None:
    """Close the connection.  Racket: ``ws-close!``.

    ``status`` is 1000, another code RFC 6455 lets an endpoint send (1001-1003,
    1007-1014) or an application's 3000-4999; ``reason`` at most 123 bytes of UTF-8.
    Anything else is a ValueError before anything is sent (the connection stays open).
    """
    conn.close(status, reason)


def ws_conn_closed(conn: WebSocketConnection) -> bool:
    """Racket: ``ws-conn-closed?``."""
    return conn.closed


def ws_conn_close_status(conn: WebSocketConnection) -> Optional[int]:
    """The close code received (or sent first); 1005 when the peer's close frame had
    none, 1006 when the connection dropped.  Racket: ``ws-conn-close-status``."""
    return conn.close_status


def ws_conn_close_reason(conn: WebSocketConnection) -> Optional[str]:
    """Racket: ``ws-conn-close-reason``."""
    return conn.close_reason


def ws_conn_line(conn: WebSocketConnection) -> str:
    """The request line of the handshake.  Racket: ``ws-conn-line``."""
    return conn.request_line


def ws_conn_headers(conn: WebSocketConnection):
    """The request headers of the handshake.  Racket: ``ws-conn-headers``."""
    return conn.headers


def ws_conn_path(conn: WebSocketConnection) -> str:
    return conn.path


def ws_conn_subprotocol(conn: WebSocketConnection) -> Optional[str]:
    return conn.subprotocol

