"""The socket of an upgraded connection, as the protocol after the upgrade reads it."""
from __future__ import annotations

from collections import deque
from typing import Optional

__all__ = ["DONE_READER", "RawStream"]


class RawStream:
    """The socket of an upgraded connection.

    Bytes the client sent right after its handshake, which the HTTP parser had already
    buffered, come first; then reads go straight to the socket (no buffered-reader layer
    on the hot path of every WebSocket frame).
    """

    __slots__ = ("socket", "_leftover")

    def __init__(self, socket, leftover: bytes = b"") -> None:
        self.socket = socket
        self._leftover = leftover

    def read1(self, size: int = 65536) -> bytes:
        """At most ``size`` bytes with at most one ``recv``; ``b''`` at end of stream."""
        if self._leftover:
            data, self._leftover = self._leftover[:size], self._leftover[size:]
            return data
        return self.socket.recv(size)

    def sendall(self, data: bytes) -> None:
        self.socket.sendall(data)

    def settimeout(self, seconds: Optional[float]) -> None:
        self.socket.settimeout(seconds)

    def close(self) -> None:
        try:
            self.socket.close()
        except OSError:
            pass


class _DoneReader:
    """The reader of a connection handed over to another protocol: nothing to read."""

    def __init__(self) -> None:
        # (set here: mypyc gives a class no mutable default like a deque)
        self.queue: deque = deque()
        self.dead = True
        self.paused = False
        self.in_head = False
        self.unparsed = b""

    def close(self) -> None:
        pass


#: stands in for the RequestReader of a connection handed over
DONE_READER = _DoneReader()
