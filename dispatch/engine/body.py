"""``wsgi.input``: the request body, read from the socket as the application asks."""
from __future__ import annotations

import socket
from collections import deque
from typing import Any, Optional, Protocol

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestTimeout

from ..http11.reader import Message, RequestReader
from ..http11.writer import ResponseWriter

__all__ = ["EMPTY_INPUT", "Input"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class BodySource(Protocol):
    """What :class:`Input` needs of its connection (an ``HTTPConnection``)."""

    reader: RequestReader
    writer: ResponseWriter
    socket: Any
    upgraded: bool
    sent_continue: bool

    def timed(self) -> None:
        """Bound the socket's waits by the send time-out for the rest of the request."""

    def receive(self) -> None:
        """Read more from the socket into ``reader``."""

    def drain(self) -> None:
        """Send the answers still waiting to go, before anything else is sent."""


class Input:
    """``wsgi.input``: the request body, read from the socket as the application asks.

    What a dispatcher reads is kept until the response starts, so that :meth:`rewind`
    can give it again to the next dispatcher when this one declines (the sequencer
    does); the safety limit on bodies bounds it.
    """

    __slots__ = ("_conn", "_message", "_read", "_replay", "recording")

    def __init__(self, conn: BodySource, message: Message) -> None:
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
                conn.drain()  # an earlier pipelined answer goes first
                conn.timed()
                conn.socket.sendall(_CONTINUE)
            try:
                conn.receive()
            except socket.timeout:
                # The body stopped arriving: 408, and the connection ends (it cannot
                # carry another request after a body cut short).
                conn.writer.keep_alive = False
                raise RequestTimeout("the request body did not arrive in time") from None
        if message.error is not None:
            conn.writer.keep_alive = False
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

    def read1(self, size: Optional[int] = -1) -> bytes:
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

    def readlines(self, hint: Optional[int] = -1) -> list:
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

    # (methods of their own, not class-body aliases: mypyc compiles no aliases)
    def read1(self, size: Optional[int] = -1) -> bytes:
        return b""

    def readline(self, size: Optional[int] = -1) -> bytes:
        return b""

    def readinto(self, buffer) -> int:
        return 0

    def readlines(self, hint: Optional[int] = -1) -> list:
        return []

    def __iter__(self):
        return iter(())

    def readable(self) -> bool:
        return True

    def rewind(self) -> bool:
        return False

    def close(self) -> None:
        pass


EMPTY_INPUT = _EmptyInput()
