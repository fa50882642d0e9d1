"""A streamed response that outlives the greenlet that started it.

An idle event stream served the plain way is a greenlet parked in the middle of a WSGI
body iterator: its stack and Python frames are most of what the stream costs.  A
:class:`DetachedStream` is written to from any greenlet (a publisher's, a timer's)
without blocking: bytes go straight to the OS socket while it takes them; what it does not
take waits in a small buffer that one short-lived greenlet flushes under the send
time-out.  A client that goes away is noticed by a read watcher, not by a waiting
greenlet.  Get one with ``conn.detach(status, headers)`` (see :mod:`dispatch.connection`).
Racket has no twin: its connections are threads, and a thread per idle stream is cheap.
"""
from __future__ import annotations

import logging
import socket
from typing import Any, Callable, Optional

import gevent
from gevent.socket import wait_write

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..http11 import writer
from .sockets import os_socket_of

__all__ = ["DetachedStream"]

log = logging.getLogger("dispatch.server")

#: bytes waiting for a client beyond which it is dropped (it does not read)
MAX_BUFFERED = 4 * 1024 * 1024


class DetachedStream:
    """The body of a response, framed (chunked for HTTP/1.1, close-delimited for 1.0)
    and written without blocking.  ``on_close`` is called once when the stream ends,
    whoever ends it."""

    __slots__ = ("_conn", "_sock", "_chunked", "_buffer", "_buffered", "_flusher",
                 "_closing", "_reader", "closed", "send_timeout", "max_buffered",
                 "max_pieces", "on_close", "label")

    def __init__(self, conn, chunked: bool, send_timeout: Optional[float],
                 max_buffered: int = MAX_BUFFERED) -> None:
        self._conn = conn
        # The OS socket: gevent's wrapper would wait (or throw into a waiter); here a
        # full socket buffer must mean "later", never "block".
        self._sock = os_socket_of(conn.socket)
        self._chunked = chunked
        self._buffer: list = []
        self._buffered = 0
        # (Any, not None: compiled, the attribute would be checked to stay None)
        self._flusher: Any = None  # the greenlet flushing what waits, while one does
        self._closing = False
        self.closed = False
        self.send_timeout = send_timeout
        self.max_buffered = max_buffered
        #: writes waiting for a client beyond which it is dropped (an SSE source sets
        #: its queue_limit here)
        self.max_pieces = 1000
        self.on_close: Optional[Callable[[], object]] = None
        #: who is at the other end, for the log line of a drop
        self.label = "a client"
        self._reader = gevent.get_hub().loop.io(self._sock.fileno(), 1)
        self._reader.start(self._readable)

    def write(self, data: bytes) -> bool:
        """Send ``data`` (one piece of the body) without blocking; False once the stream
        is closed (the caller stops writing to it)."""
        if self.closed or self._closing:
            return False
        if not data:
            return True
        self._send(writer.chunk(data) if self._chunked else data)
        return not self.closed

    def _send(self, data: bytes) -> None:
        if self._buffer:
            self._buffer.append(data)
            self._buffered += len(data)
            if self._buffered > self.max_buffered or len(self._buffer) > self.max_pieces:
                self.abort(f"dropping {self.label}: it does not read ({len(self._buffer)} "
                           f"writes, {self._buffered} bytes waiting)")
            return
        sent = self._send_now(data)
        if sent is None:
            return
        if sent < len(data):
            rest = data[sent:]
            self._buffer.append(rest)
            self._buffered = len(rest)
            if self._flusher is None:
                self._flusher = gevent.spawn(self._flush)

    def _send_now(self, data: bytes) -> Optional[int]:
        """What the kernel takes of ``data`` now; ``None`` once the connection failed."""
        try:
            return self._sock.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            self.abort()
            return None

    def _flush(self) -> None:
        """Send what waits, as the client takes it, within the send time-out."""
        try:
            while self._buffer and not self.closed:
                try:
                    wait_write(self._sock.fileno(), timeout=self.send_timeout,
                               timeout_exc=socket.timeout)
                except socket.timeout:
                    self.abort(f"dropping {self.label}: it read nothing for "
                               f"{self.send_timeout} s")
                    return
                data = b"".join(self._buffer)
                sent = self._send_now(data)
                if sent is None:
                    return
                rest = data[sent:]
                self._buffer = [rest] if rest else []
                self._buffered = len(rest)
        finally:
            self._flusher = None
        if self._closing and not self.closed:
            self._finish()

    def _readable(self) -> None:  # in the hub: a client speaks only to leave
        try:
            data = self._sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.abort()

    def close(self) -> None:
        """End the body cleanly (the last chunk), once what waits has been sent."""
        if self.closed or self._closing:
            return
        if self._chunked:
            self._send(writer.LAST_CHUNK)
        self._closing = True
        if self._flusher is None and not self.closed:
            self._finish()

    def _finish(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.abort()

    def abort(self, why: Optional[str] = None) -> None:
        """End the stream at once, with nothing more sent."""
        if self.closed:
            return
        self.closed = True
        if why:
            log.info("%s", why)
            if _hooks.observer is not None:  # a client that does not read (SSE's streams)
                _hooks.observer.sse_dropped()
        self._buffer = []
        self._reader.stop()
        self._reader.close()
        self._conn.close()
        if self.on_close is not None:
            callback, self.on_close = self.on_close, None
            callback()
