"""WebSocket broadcast groups: a message sent to a group reaches every member connection,
in this process and, through a shared broker, in every process.

    chat = make_ws_group()                          # in memory; or broker=RedisBroker(url)
    def chatter(c):
        ws_group_add(chat, c)
        while not is_eof(message := ws_recv(c)):
            ws_group_send(chat, message)

Members leave when their connection closes: a closed connection is never a member again
(it is dropped the next time the group is sent to, joined or looked at), so a handler need
not remove it, also when it ends with an exception.  :func:`ws_group_remove` takes one out
earlier.  A member whose send fails is dropped too, never blocking the others for long
(each connection's send buffer is bounded).  The broker is the SSE package's (see
``dispatch/sse/broker.py``): messages are not kept and never replayed; with Redis, a
message sent while Redis is away raises ``BrokerUnavailable`` after the broker's retries.

Racket's web server has no groups; this is the usual chat-room pattern over
``ws-send!``, shared between processes the way the SSE package's events are.
"""
from __future__ import annotations

import logging
from typing import Union

from .sse.broker import MemoryBroker
from .websocket.connection import ConnectionClosed, WebSocketConnection, ws_send

__all__ = ["WSGroup", "make_ws_group", "ws_group_add", "ws_group_members", "ws_group_remove",
           "ws_group_send"]

log = logging.getLogger("dispatch.broadcast")

_TEXT, _BINARY = b"t", b"b"


class WSGroup:
    """A set of open WebSocket connections that receive every message sent to the group
    (from this process or, through the broker, from any other)."""

    def __init__(self, broker=None) -> None:
        self.broker = broker if broker is not None else MemoryBroker(history=0)
        self._members: set = set()
        self.broker.start(self._deliver)

    @property
    def members(self) -> frozenset:
        """The open member connections of this process (closed ones are dropped here)."""
        self._prune()
        return frozenset(self._members)

    def __len__(self) -> int:
        return len(self.members)

    def _prune(self) -> None:
        for member in [m for m in self._members if m.closed]:
            self._members.discard(member)

    def _deliver(self, event_id, payload: bytes) -> None:
        kind, body = payload[:1], payload[1:]
        message: Union[str, bytes] = body.decode("utf-8") if kind == _TEXT else body
        for member in tuple(self._members):
            if member.closed:
                self._members.discard(member)
                continue
            try:
                ws_send(member, message, payload_type="text" if kind == _TEXT else "binary")
            except ConnectionClosed:
                self._members.discard(member)


def make_ws_group(broker=None) -> WSGroup:
    """A new, empty group.  ``broker`` shares it between processes, e.g.
    ``RedisBroker(url, name="chat")`` with the same name in each (default: this process
    only).  Make it once per process, at start-up, not per connection."""
    return WSGroup(broker)


def ws_group_add(group: WSGroup, conn: WebSocketConnection) -> None:
    """Make ``conn`` a member: it receives every message sent to ``group`` from now on,
    until it closes or is removed.  Adding a member twice is harmless."""
    group._prune()  # closed members of this process go here at the latest
    if not conn.closed:
        group._members.add(conn)


def ws_group_remove(group: WSGroup, conn: WebSocketConnection) -> None:
    """Stop sending ``group``'s messages to ``conn`` (no error if it is not a member)."""
    group._members.discard(conn)


def ws_group_members(group: WSGroup) -> frozenset:
    """The open connections of this process that are members of ``group``."""
    return group.members


def ws_group_send(group: WSGroup, message: Union[str, bytes]) -> None:
    """Send ``message`` to every member of ``group``, in every process, text (``str``) or
    binary (``bytes``) as given; the sender, if a member, gets it too.  Raises
    ``BrokerUnavailable`` when a shared broker cannot take it (nothing is sent then)."""
    payload = _TEXT + message.encode("utf-8") if isinstance(message, str) else _BINARY + message
    group.broker.publish(lambda event_id: payload, keep=False)
