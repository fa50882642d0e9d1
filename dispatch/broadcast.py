"""WebSocket broadcast groups: a message sent to a group reaches every member connection,
in this process and, through a shared broker, in every process.

    chat = make_ws_group()                          # in memory; or broker=RedisBroker(url)
    def chatter(c):
        ws_group_add(chat, c)
        while not is_eof(message := ws_recv(c)):
            ws_group_send(chat, message)

Members leave when their connection closes (or with :func:`ws_group_remove`); a member
whose send fails is dropped from the group, never blocking the others for long (each
connection's send buffer is bounded).  The broker is the SSE package's (see
``dispatch/sse/broker.py``): messages are not kept and never replayed.
"""
from __future__ import annotations

import logging
from typing import Union

from .sse.broker import MemoryBroker
from .websocket.connection import ConnectionClosed, WebSocketConnection, ws_send

__all__ = ["WSGroup", "make_ws_group", "ws_group_add", "ws_group_remove", "ws_group_send"]

log = logging.getLogger("dispatch.broadcast")

_TEXT, _BINARY = b"t", b"b"


class WSGroup:
    def __init__(self, broker=None) -> None:
        self.broker = broker if broker is not None else MemoryBroker(history=0)
        self.members: set = set()
        self.broker.start(self._deliver)

    def _deliver(self, event_id, payload: bytes) -> None:
        kind, body = payload[:1], payload[1:]
        message: Union[str, bytes] = body.decode("utf-8") if kind == _TEXT else body
        for member in tuple(self.members):
            if member.closed:
                self.members.discard(member)
                continue
            try:
                ws_send(member, message, payload_type="text" if kind == _TEXT else "binary")
            except ConnectionClosed:
                self.members.discard(member)


def make_ws_group(broker=None) -> WSGroup:
    """A new group; ``broker`` shares it between processes (default: this one only)."""
    return WSGroup(broker)


def ws_group_add(group: WSGroup, conn: WebSocketConnection) -> None:
    group.members.add(conn)


def ws_group_remove(group: WSGroup, conn: WebSocketConnection) -> None:
    group.members.discard(conn)


def ws_group_send(group: WSGroup, message: Union[str, bytes]) -> None:
    """Send ``message`` to every member of the group, in every process.  Raises
    ``BrokerUnavailable`` when a shared broker cannot take it."""
    payload = _TEXT + message.encode("utf-8") if isinstance(message, str) else _BINARY + message
    group.broker.publish(lambda event_id: payload, keep=False)
