"""Hook slots for monitoring: what the engine, SSE and WebSocket code tell an observer.

No Racket twin (Racket's web-server has no monitoring hooks).  :mod:`dispatch.metrics`
installs an observer here; nothing else does.  With none installed (the default) the
code that would call one checks :data:`observer` once at each site and goes on: no call,
no clock read, no allocation.  This module imports nothing from the rest of ``dispatch``,
so that every part may import it.

An observer is installed for the whole process, before serving: open connections are
counted by their opening and closing calls, and a connection opened before the observer
was installed would be closed into it without having been opened there.
"""
from __future__ import annotations

from typing import Optional

__all__ = ["Observer", "install", "observer"]


class Observer:
    """The calls an observer receives; each does nothing here (override what you use).

    They run in the greenlet (or the hub callback) where the event happens: they must
    not block.
    """

    def request(self, method: str, status: Optional[str], seconds: float) -> None:
        """The application answered a request: its method, the status line sent
        (``"200 OK"``), and the seconds from its head to the end of its answer."""

    def refused(self, status: int) -> None:
        """The engine answered with an error of its own: to a request it could not read
        (400, 408, 413, 414, 431, 501, 505), or 500 when the application failed before
        its answer started."""

    def connection_opened(self) -> None:
        """A client connected: an HTTP connection, until upgraded or closed."""

    def connection_upgraded(self) -> None:
        """A dispatcher took an HTTP connection over (``conn.upgrade`` for a WebSocket,
        ``conn.detach`` for an event stream)."""

    def connection_closed(self, upgraded: bool) -> None:
        """A connection closed; ``upgraded``: it had been handed over before."""

    def sse_opened(self) -> None:
        """An SSE stream started."""

    def sse_closed(self) -> None:
        """An SSE stream ended."""

    def sse_sent(self, count: int) -> None:
        """``count`` events were given to SSE clients (an event to N clients is N)."""

    def sse_dropped(self) -> None:
        """An SSE client was dropped because it did not read."""

    def websocket_opened(self) -> None:
        """A WebSocket handler started (after the handshake)."""

    def websocket_closed(self, code: Optional[int]) -> None:
        """A WebSocket ended with close code ``code`` (1006: dropped without a close)."""

    def websocket_received(self) -> None:
        """A server-side WebSocket received a message (not a fragment, not a control)."""

    def websocket_sent(self) -> None:
        """A server-side WebSocket sent a message."""


#: the installed observer, or ``None`` (checked by the engine, SSE and WebSocket code)
observer: Optional[Observer] = None


def install(new: Optional[Observer]) -> Optional[Observer]:
    """Make ``new`` the observer (``None``: none); returns the one it replaces."""
    global observer
    if new is not None and not isinstance(new, Observer):
        raise TypeError(f"install: new must be an Observer or None, not {new!r}")
    old, observer = observer, new
    return old
