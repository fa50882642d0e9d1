"""The socket side of a client connection: waiting, reading, sending what the response
writer gives, closing politely.

Reads and sends go to the OS socket where they can (see :mod:`.sockets`) and through
gevent's socket, under the send time-out, only when they must wait.
"""
from __future__ import annotations

import socket
from typing import Any, Callable, Optional, Union

import gevent

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..http11 import writer
from ..http11.reader import ProtocolError
from ..http11.reasons import status_line
from .owner import ConnectionOwner
from .sockets import wait_readable

__all__ = ["GONE", "SocketIO"]

RECV_SIZE = 65536
# Answers up to this size wait in the outbox (see .outbox); larger ones are sent at once.
COALESCE_LIMIT = 65536
# Errors of a client that went away or stopped reading: the connection just ends.
GONE = (ConnectionError, socket.timeout, TimeoutError, OSError)


class SocketIO:
    """The part of :class:`~.http_connection.HTTPConnection` that talks to the socket."""

    __slots__ = ("server", "socket", "_raw", "_timed", "_unsent", "_unsent_size",
                 "_out_watchers", "_send_failed")

    server: ConnectionOwner
    socket: Any
    #: the OS socket under ``socket`` (None for TLS): the hot paths' way around gevent
    _raw: Optional[Any]
    #: the send time-out is set on the socket for the request being answered
    _timed: bool
    #: bytes waiting in the server's outbox (or for the socket to take them), in order
    _unsent: Optional[list]
    _unsent_size: int
    #: while the kernel's buffer is full: the watcher for room and the send time-out
    _out_watchers: Optional[tuple]
    #: why a send from the hub failed: the next send raises it in the greenlet
    _send_failed: Optional[OSError]
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

    def _no_output_yet(self) -> None:
        self._unsent = None
        self._unsent_size = 0
        self._out_watchers = None
        self._send_failed = None

    def _send(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Send ``data`` whole, after what was given before: a small piece waits in the
        server's outbox until the end of the hub's turn when other connections are still
        to run in it (see :mod:`.outbox`); otherwise it goes at once."""
        if self._raw is None:  # TLS: gevent's socket keeps the state
            self.timed()
            self.socket.sendall(data)
            return
        failed = self._send_failed
        if failed is not None:  # the outbox could not deliver: the client is gone
            raise type(failed)(*failed.args)
        unsent = self._unsent
        if unsent is None and (len(data) > COALESCE_LIMIT
                               or not self.server.outbox.others_ready()):
            self._send_now(data)  # nothing to leave with: a lone client's answer
            return
        if type(data) is not bytes:
            data = bytes(data)  # the application may reuse its buffer once we return
        if unsent is not None:
            unsent.append(data)
            self._unsent_size += len(data)
            if self._unsent_size > COALESCE_LIMIT:
                self.drain()
        else:
            self._unsent = [data]
            self._unsent_size = len(data)
            self.server.outbox.add(self)

    def _send_all(self, pieces: list) -> None:
        for data in pieces:
            self._send(data)

    def _send_now(self, data: Union[bytes, bytearray, memoryview]) -> None:
        """Send ``data`` straight to the OS socket, and through gevent (which waits,
        under the send time-out) only for what the kernel did not take."""
        raw = self._raw
        assert raw is not None  # (TLS never comes here)
        try:
            sent = raw.send(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self.timed()
            self.socket.sendall(memoryview(data)[sent:])

    def drain(self) -> None:
        """Send what waits for the outbox now, waiting if need be: before the socket is
        used any other way (a direct send, an upgrade, a shutdown, a close)."""
        unsent = self._unsent
        if unsent is None:
            return
        self._unsent = None
        self._stop_out_watchers()
        self._send_now(unsent[0] if len(unsent) == 1 else b"".join(unsent))

    def flush(self) -> None:
        """Send what waits, as far as the kernel takes it without waiting: called in the
        hub, by the outbox and when the socket has room again.  What is left waits for
        room, under the send time-out, unless the connection's greenlet drains it first."""
        unsent = self._unsent
        raw = self._raw
        if unsent is None or raw is None or self._out_watchers is not None or (
                self.socket is None):
            return
        data = unsent[0] if len(unsent) == 1 else b"".join(unsent)
        try:
            sent = raw.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            # The client is gone: its greenlet finds out at its next read or send.
            self._unsent = None
            self._send_failed = exc
            return
        if sent == len(data):
            self._unsent = None
            return
        rest = data[sent:]
        self._unsent = [rest]
        self._unsent_size = len(rest)
        loop = gevent.get_hub().loop
        room = loop.io(raw.fileno(), 2)
        room.start(self._room)
        expiry = None
        limit = self.server.safety_limits.response_send_timeout
        if limit is not None:
            expiry = loop.timer(limit)
            expiry.start(self._send_timed_out)
        self._out_watchers = (room, expiry)

    def _room(self) -> None:  # in the hub
        self._stop_out_watchers()
        self.flush()

    def _send_timed_out(self) -> None:  # in the hub
        """The client took nothing for the send time-out: it is dropped, as a greenlet
        waiting to send would be."""
        self._stop_out_watchers()
        self._unsent = None
        self._send_failed = TimeoutError("the client took nothing for the send time-out")
        self.close()

    def _stop_out_watchers(self) -> None:
        watchers = self._out_watchers
        if watchers is not None:
            self._out_watchers = None
            for watcher in watchers:
                if watcher is not None:
                    watcher.stop()
                    watcher.close()

    def _last_send(self) -> None:
        """An answer still waits in the outbox as the socket closes: it leaves first (in
        the hub, as far as the kernel takes it without waiting)."""
        if gevent.getcurrent() is gevent.get_hub():
            self.flush()
            self._stop_out_watchers()
            self._unsent = None
        else:
            try:
                self.drain()
            except GONE:
                pass

    def close(self) -> None:
        """End the connection (:class:`~.http_connection.HTTPConnection`'s)."""
        raise NotImplementedError

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
            self.drain()
            self.socket.sendall(data + body)
        except GONE:
            return
        self._linger()

    def _linger(self) -> None:
        """Close without a reset: a socket closed with unread input sends RST, and the
        client may lose the answer it has not read yet.  Bounded: 16 reads, 1 s each."""
        try:
            self.drain()
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
