"""Where an SSE source's events go between ``sse_send_event`` and the subscribers.

A broker assigns the ids of kept events, keeps the bounded window of them, replays it, and
delivers every event to the subscribers of this process.  :class:`MemoryBroker`, the
default, does this inside one process; a broker backed by Redis does it for several
processes with the same four methods:

``start(deliver)``
    Begin delivering: ``deliver(id, payload)`` is called for every event sent through
    the broker (by any process), in the order of their ids, with ``id`` ``None`` for an
    event that is not kept.
``publish(encode, keep) -> id``
    Send one event.  ``encode(id)`` returns its bytes given the id the broker assigns
    (``None`` when ``keep`` is false).  Raises :class:`BrokerUnavailable` rather than
    dropping an event it could not send.  Ids are non-negative integers of at most 19
    digits that always increase, also across a restart of whatever stores them (clients
    and ``Last-Event-ID`` rely on it); the in-memory broker counts 1, 2, ..., a shared
    broker may jump (Redis: to a new generation after a reset).
``replay(after) -> [(id, payload), ...]``
    The kept events with an id greater than ``after`` (all kept events when ``after``
    is ``None``), oldest first.
``restart()``
    Forget the kept events (ids keep increasing).
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Optional

__all__ = ["BrokerUnavailable", "MemoryBroker", "DEFAULT_HISTORY"]

#: Kept events remembered for replay, by default.
DEFAULT_HISTORY = 1000

Deliver = Callable[[Optional[int], bytes], None]
Encode = Callable[[Optional[int]], bytes]


class BrokerUnavailable(ConnectionError):
    """The broker could not accept an event; it was not sent."""


class MemoryBroker:
    """The broker of one process: nothing to start, nothing shared."""

    def __init__(self, history: int = DEFAULT_HISTORY) -> None:
        if history < 0:
            raise ValueError("history must be >= 0")
        self._kept: deque = deque(maxlen=history)
        self._last_id = 0
        self._deliver: Deliver = _nowhere

    def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, encode: Encode, keep: bool) -> Optional[int]:
        event_id = None
        if keep:
            self._last_id = event_id = self._last_id + 1
        payload = encode(event_id)
        if keep:
            self._kept.append((event_id, payload))
        self._deliver(event_id, payload)
        return event_id

    def replay(self, after: Optional[int]) -> list:
        if after is None:
            return list(self._kept)
        return [kept for kept in self._kept if kept[0] > after]

    def restart(self) -> None:
        self._kept.clear()


def _nowhere(event_id, payload) -> None:
    pass
