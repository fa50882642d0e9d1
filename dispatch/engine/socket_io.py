"""The socket side of a client connection: waiting, reading, sending what the response
writer gives, closing politely.

Reads and sends go to the OS socket where they can (see :mod:`.sockets`) and through
gevent's socket, under the send time-out, only when they must wait.
"""
from __future__ import annotations

import socket
from typing import Any, Callable, Optional, Union

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..http11 import writer
from ..http11.reader import ProtocolError
from ..http11.reasons import status_line
from .owner import ConnectionOwner
from .sockets import wait_readable

__all__ = ["GONE", "SocketIO"]

RECV_SIZE = 65536
# Errors of a client that went away or stopped reading: the connection just ends.
GONE = (ConnectionError, socket.timeout, TimeoutError, OSError)


class SocketIO:
    """The part of :class:`~.http_connection.HTTPConnection` that talks to the socket."""

    __slots__ = ("server", "socket", "_raw", "_timed")

    server: ConnectionOwner
    socket: Any
    #: the OS socket under ``socket`` (None for TLS): the hot paths' way around gevent
    _raw: Optional[Any]
    #: the send time-out is set on the socket for the request being answered
    _timed: bool
    #: the response being answered (sans-I/O: it gives the bytes, this sends them)
    writer: writer.ResponseWriter
    #: the socket was handed over (an upgrade, a detached stream)
    upgraded: bool

    def timed(self) -> None:
        """Bound the socket's waits by the send time-out, for the rest of this request:
        set only when a wait may come (a body to read, a send the kernel did not take
        whole), as most requests need none and setting it costs on every request."""
        if not self._timed:
            self._timed = True
            self.socket.settimeout(self.server.safety_limits.response_send_timeout)

    def _recv(self) -> bytes:
        """Wait until the socket is readable, then read: a keep-alive client's next
        request is seldom there already when the previous answer leaves."""
        raw = self._raw
        if raw is None:
            return self.socket.recv(RECV_SIZE)
        wait_readable(self.socket)
        try:
            return raw.recv(RECV_SIZE)
        except BlockingIOError:  # woken, but another reader was first: wait again
            return self.socket.recv(RECV_SIZE)

    def _send(self, data: bytes) -> None:
        """Send ``data`` whole: straight to the OS socket, and through gevent (which
        waits, under the send time-out) only for what the kernel did not take."""
        raw = self._raw
        if raw is None:
            self.timed()
            self.socket.sendall(data)
            return
        try:
            sent = raw.send(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self.timed()
            self.socket.sendall(memoryview(data)[sent:])

    def _send_all(self, pieces: list) -> None:
        for data in pieces:
            self._send(data)

    def refuse(self, error: ProtocolError) -> None:
        """Answer a request that cannot be served, then close: nothing after a framing
        error can be trusted to start a request."""
        if _hooks.observer is not None:
            _hooks.observer.refused(error.status)
        body = f"{error.reason}\n".encode("latin-1", "replace")
        status = status_line(error.status)
        data, _, _ = writer.head(status, [("Content-Type", "text/plain; charset=utf-8")],
                                 len(body), False, False, writer.http_date())
        try:
            self.socket.sendall(data + body)
        except GONE:
            return
        self._linger()

    def _linger(self) -> None:
        """Close without a reset: a socket closed with unread input sends RST, and the
        client may lose the answer it has not read yet.  Bounded: 16 reads, 1 s each."""
        try:
            self.socket.shutdown(socket.SHUT_WR)
            self.socket.settimeout(1.0)
            for _ in range(16):
                if not self.socket.recv(RECV_SIZE):
                    break
        except GONE:
            pass

    # -- the response ------------------------------------------------------------------
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
