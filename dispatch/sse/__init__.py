"""Server-sent events.  Racket: the ``SSE`` package by the seed's author.

=========================  =======================================
Racket                     Python
=========================  =======================================
``make-sse``               :func:`make_sse`
``sse?``                   :func:`is_sse`
``sse-dispatcher``         :func:`sse_dispatcher`
``sse-serve``              :func:`sse_serve`
``sse-send-event``         :func:`sse_send_event`
``sse-restart-messages``   :func:`sse_restart_messages`
=========================  =======================================
"""
from .broker import DEFAULT_HISTORY, BrokerUnavailable, MemoryBroker
from .dispatcher import sse_dispatcher, sse_serve
from .encoder import encode_comment, encode_event
from .source import (
    DEFAULT_HEARTBEAT,
    DEFAULT_QUEUE_LIMIT,
    SSE,
    is_sse,
    make_sse,
    sse_restart_messages,
    sse_send_event,
)

__all__ = [
    "DEFAULT_HEARTBEAT", "DEFAULT_HISTORY", "DEFAULT_QUEUE_LIMIT", "SSE", "BrokerUnavailable",
    "MemoryBroker", "encode_comment", "encode_event", "is_sse", "make_sse", "sse_dispatcher",
    "sse_restart_messages", "sse_send_event", "sse_serve",
]


def __getattr__(name):
    # RedisBroker needs redis-py (the ``redis`` extra): imported only when asked for.
    if name == "RedisBroker":
        from .redis_broker import RedisBroker
        return RedisBroker
    raise AttributeError(name)
