"""Small answers leave together, at the end of the hub's turn.

On a busy server one turn of the hub wakes many keep-alive connections at once; each
greenlet reads its request, answers it, and goes back to waiting.  Sent as soon as it is
ready, each answer leaves a whole request's work after the one before, and on loopback
or a fast network every send then wakes the client's process anew: profiled under wrk,
that wake-up (``sock_def_readable``, called from the send) was an eighth of the server's
CPU, against a sixteenth for aiohttp measured the same way.  So an answer that fits the
socket's buffer waits here until the greenlets of this turn have run, then leaves with
the others, one send per connection.  Only then: an answer leaves at once when no other
watcher is still to run in this turn (libev's pending count; a lone keep-alive client,
or the last connection of a turn), since waiting for the end of the turn would only add
the greenlet's switch to the hub to its latency.
"""
from __future__ import annotations

from typing import Any

import gevent

__all__ = ["Outbox"]


class Outbox:
    """The connections of one listening server with answers waiting to be sent."""

    __slots__ = ("_waiting", "_loop")

    def __init__(self) -> None:
        self._waiting: list = []
        self._loop: Any = None  # the hub's, found at first use (in the serving thread)

    def _hub_loop(self) -> Any:
        loop = self._loop
        if loop is None:
            loop = self._loop = gevent.get_hub().loop
        return loop

    def others_ready(self) -> bool:
        """Whether other watchers are still to run in this turn of the hub.  (libuv's
        loop has no such count and says 0: answers are then sent at once.)"""
        return self._hub_loop().pendingcnt > 0

    def add(self, conn: Any) -> None:
        """Send ``conn``'s waiting bytes (``conn.flush()``) at the end of this turn."""
        if not self._waiting:
            self._hub_loop().run_callback(self._flush)
        self._waiting.append(conn)

    def _flush(self) -> None:  # in the hub: flush() never blocks
        waiting, self._waiting = self._waiting, []
        for conn in waiting:
            conn.flush()
