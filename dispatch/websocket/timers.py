"""One timer heap per gevent hub, driven by one greenlet, for every WebSocket's pings,
pong time-outs, idle time-outs and closing handshakes.

Racket's rfc6455 (and the first version of this package) ran a keep-alive thread per
connection; a greenlet blocked in ``sleep`` keeps its stack and a libev timer alive,
about 15 KiB of RSS per idle connection.  Here a connection holds one heap entry (a
three-item list) and the one greenlet sleeps until the earliest deadline.  Callbacks run
in that greenlet and must not block: whatever may wait on I/O is spawned.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import time
import weakref
from typing import Callable, Optional

import gevent
from gevent.event import Event

__all__ = ["TimerHeap", "timers"]

log = logging.getLogger("dispatch.websocket")

Entry = list  # [when, sequence number, callback or None once cancelled]


class TimerHeap:
    """Deadlines (``time.monotonic()``) and their callbacks, earliest first."""

    def __init__(self) -> None:
        self._heap: list = []
        self._sequence = itertools.count()
        self._wake = Event()
        self._runner: Optional[gevent.Greenlet] = None
        self._next = float("inf")
        self._cancelled = 0

    def __len__(self) -> int:
        return len(self._heap) - self._cancelled

    def call_at(self, when: float, callback: Callable[[], object]) -> Entry:
        """Call ``callback()`` at ``when``; returns the entry to :meth:`cancel`."""
        entry = [when, next(self._sequence), callback]
        heapq.heappush(self._heap, entry)
        if self._runner is None:
            self._runner = gevent.spawn(self._run)
        elif when < self._next:
            self._wake.set()
        return entry

    def cancel(self, entry: Optional[Entry]) -> None:
        if entry is not None and entry[2] is not None:
            entry[2] = None
            self._cancelled += 1
            # Cancelled entries stay until their time; rebuild when they are most of it.
            if self._cancelled > 1024 and self._cancelled * 2 > len(self._heap):
                self._heap = [e for e in self._heap if e[2] is not None]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        try:
            while self._heap:
                now = time.monotonic()
                # self._heap, not a local: a callback's cancel() may rebuild it.
                while self._heap and self._heap[0][0] <= now:
                    entry = heapq.heappop(self._heap)
                    callback = entry[2]
                    if callback is None:
                        self._cancelled -= 1
                        continue
                    entry[2] = None
                    try:
                        callback()
                    except Exception:  # one connection's bug must not stop the others
                        log.exception("a WebSocket timer callback failed")
                if not self._heap:
                    break
                self._next = self._heap[0][0]
                self._wake.clear()
                self._wake.wait(max(0.0, self._next - time.monotonic()))
        finally:
            self._next = float("inf")
            self._runner = None


_by_hub: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def timers() -> TimerHeap:
    """The heap of the current thread's hub."""
    hub = gevent.get_hub()
    heap = _by_hub.get(hub)
    if heap is None:
        heap = _by_hub[hub] = TimerHeap()
    return heap
