"""A WebSocket connection over gevent, and the rfc6455 connection API.

Racket: ``net/rfc6455``'s ``ws-conn`` and its procedures.  The greenlet that calls
:func:`ws_recv` reads the socket itself (no reader greenlet per connection: one switch
less per message, one greenlet less per idle connection); sends from any greenlet are
serialised by a lock and bounded by ``max_send_buffer``.
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
from gevent.event import AsyncResult
from gevent.lock import Semaphore

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
)

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


def is_eof(value) -> bool:
    """Racket: ``eof-object?``."""
    return value is EOF


class ConnectionClosed(ConnectionError):
    """Sending on a connection that is closed or was dropped."""


@dataclass(frozen=True)
class WSOptions:
    """Limits and keep-alive of every connection a dispatcher accepts.

    ``max_message_size``: larger messages close the connection with 1009 (``None``: no
    limit).  ``ping_interval``: seconds between pings (``None``: never);
    ``pong_timeout``: a peer that has not answered a ping by then is dropped.
    ``idle_timeout``: a connection with no frame from the peer for this long is closed
    with 1001 (Racket's ``ws-idle-timeout``, 300 s).  ``max_send_buffer``: bytes that
    may wait behind a send in progress before the connection is dropped as too slow.
    ``close_timeout``: how long a closing handshake waits for the peer's close frame.
    """

    max_message_size: Optional[int] = 1 << 20
    ping_interval: Optional[float] = 20.0
    pong_timeout: Optional[float] = 20.0
    idle_timeout: Optional[float] = 300.0
    max_send_buffer: int = 4 << 20
    close_timeout: float = 5.0


class WebSocketConnection:
    """An open WebSocket.  Racket: ``ws-conn?`` values."""

    def __init__(self, stream, protocol: Protocol, *, subprotocol: Optional[str] = None,
                 request_line: str = "", headers=(), path: str = "",
                 options: WSOptions = WSOptions()) -> None:
        self.stream = stream
        self.protocol = protocol
        self.subprotocol = subprotocol
        self.request_line = request_line
        self.headers = headers
        self.path = path
        self.options = options
        self.close_status: Optional[int] = None
        self.close_reason: Optional[str] = None
        self.closed = False  # no more messages will be received
        self._close_sent = False
        self._dropped = False
        self._inbox: deque = deque()
        self._read_lock = Semaphore()
        self._send_lock = Semaphore()
        self._waiting_to_send = 0
        self._last_seen = time.monotonic()
        self._pong_due: Optional[float] = None
        self._keepalive = None
        self._fragmenting = False
        # No socket time-out: gevent would arm a timer around every read. Idle time-out
        # and pings are the watchdog's, one greenlet waking every few seconds.
        stream.settimeout(None)
        if options.ping_interval or options.idle_timeout:
            self._keepalive = gevent.spawn(self._keep_alive)

    # -- receiving -------------------------------------------------------------------

    def recv(self) -> Union[str, bytes, _EOF]:
        """The next message: ``str`` (text), ``bytes`` (binary), or :data:`EOF`."""
        with self._read_lock:
            while True:
                if self._inbox:
                    return self._inbox.popleft()
                if self.closed:
                    return EOF
                self._read_once()

    def _read_once(self) -> None:
        """Read what the socket has and handle the frames in it."""
        try:
            # Mid-way through a large frame, ask for more at once: fewer wake-ups.
            data = self.stream.read1(1 << 20 if self.protocol.buffered else 65536)
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        self._last_seen = time.monotonic()
        try:
            events = self.protocol.receive_data(data)
        except ProtocolError as exc:
            log.info("closing a WebSocket: %s", exc.reason)
            self._fail(exc.code, exc.reason[:100])
            return
        for opcode, payload in events:
            if opcode == OP_TEXT or opcode == OP_BINARY:
                self._inbox.append(payload)
            elif opcode == OP_PING:
                self._send_raw(self.protocol.encode_frame(OP_PONG, payload), control=True)
            elif opcode == OP_PONG:
                self._pong_due = None
            elif opcode == OP_CLOSE:
                self._peer_closed(*payload)

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
        """After our close frame: read until the peer's, or end of stream, or time-out."""
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
                    return
        except OSError:
            return

    # -- sending ---------------------------------------------------------------------

    def send(self, payload: Union[str, bytes, IO], final_fragment: bool = True,
             payload_type: str = "text") -> None:
        if hasattr(payload, "read"):
            self._send_stream(payload, payload_type)
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
        # The bound is on what queues up behind a send in progress: one large message on
        # an idle connection always goes.
        if (self._waiting_to_send and not control
                and self._waiting_to_send + len(frame) > self.options.max_send_buffer):
            self._drop("the peer reads too slowly: send buffer full")
            raise ConnectionClosed("the peer reads too slowly; connection dropped")
        self._waiting_to_send += len(frame)
        try:
            with self._send_lock:
                self.stream.sendall(frame)
        except OSError as exc:
            self._drop(f"send failed: {exc}")
            raise ConnectionClosed(str(exc)) from None
        finally:
            self._waiting_to_send -= len(frame)

    def _send_close(self, code: int, reason: str) -> None:
        self._close_sent = True
        try:
            self._send_raw(self.protocol.encode_close(code, reason), control=True)
        except ConnectionClosed:
            pass

    # -- closing ---------------------------------------------------------------------

    def close(self, status: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Start (or finish) the closing handshake, wait for the peer's answer (bounded),
        and release the socket."""
        if self._dropped:
            return
        if not self._close_sent:
            self._send_close(status, reason)
        if self.close_status is None:
            self.close_status, self.close_reason = status, reason
        if not self.protocol.close_received:
            with self._read_lock:
                self._await_peer_close()
        self.closed = True
        self._shutdown()

    def close_for_shutdown(self) -> None:
        """The server is going away: 1001, and the handler's ``ws_recv`` sees EOF."""
        if not self._close_sent and not self._dropped:
            self._send_close(CLOSE_GOING_AWAY, "server shutting down")
        self.closed = True

    def finish(self) -> None:
        """The handler returned: close cleanly if it did not, then release everything."""
        try:
            if not self._dropped:
                self.close()
        finally:
            self._shutdown()

    def _drop(self, why: str) -> None:
        log.info("dropping a WebSocket: %s", why)
        self.closed = True
        if self.close_status is None:
            self.close_status, self.close_reason = CLOSE_ABNORMAL, why
        self._shutdown()

    def _shutdown(self) -> None:
        if self._dropped:
            return
        self._dropped = True
        if self._keepalive is not None and self._keepalive is not gevent.getcurrent():
            self._keepalive.kill(block=False)
        sock = getattr(self.stream, "socket", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.stream.close()

    # -- keep-alive ------------------------------------------------------------------

    def _keep_alive(self) -> None:
        """Pings every ``ping_interval``; closes with 1001 after ``idle_timeout``."""
        interval, idle = self.options.ping_interval, self.options.idle_timeout
        step = min(t for t in (interval, idle) if t)
        next_ping = time.monotonic() + interval if interval else None
        while not self._dropped and not self._close_sent:
            gevent.sleep(step if next_ping is None
                         else max(0.0, min(step, next_ping - time.monotonic())))
            if self._dropped or self._close_sent:
                return
            now = time.monotonic()
            if idle and now - self._last_seen >= idle:
                self._idle_close()
                return
            if next_ping is not None and now >= next_ping:
                next_ping = now + interval
                self._pong_due = now + (self.options.pong_timeout or interval)
                try:
                    self._send_raw(self.protocol.encode_frame(OP_PING, b"keepalive"),
                                   control=True)
                except ConnectionClosed:
                    return
                self._await_pong()

    def _idle_close(self) -> None:
        """Nothing from the peer for ``idle_timeout``: close with 1001, and drop the
        socket if the peer does not answer within ``close_timeout``."""
        if self.close_status is None:
            self.close_status, self.close_reason = CLOSE_GOING_AWAY, "idle timeout"
        self._send_close(CLOSE_GOING_AWAY, "idle timeout")
        gevent.sleep(self.options.close_timeout)
        self._drop("idle timeout")

    def _await_pong(self) -> None:
        # Someone must read for the pong to be seen: the handler usually is, in ws_recv;
        # when it is not, this greenlet reads, keeping messages for its next ws_recv.
        while self._pong_due is not None and not self._dropped:
            remaining = self._pong_due - time.monotonic()
            if remaining <= 0:
                self._drop("no pong before the pong timeout")
                return
            if self._read_lock.acquire(blocking=False):
                try:
                    with gevent.Timeout(remaining, False):
                        self._read_once()
                finally:
                    self._read_lock.release()
            else:
                gevent.sleep(min(remaining, 0.05))


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
        return message if isinstance(message, str) else message.decode("utf-8", "replace")
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
    return io.StringIO(message) if isinstance(message, str) else io.BytesIO(message)


def ws_close(conn: WebSocketConnection, status: int = CLOSE_NORMAL, reason: str = "") -> None:
    """Close the connection.  Racket: ``ws-close!``."""
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

