"""SSE as a dispatcher.  Racket: ``sse-dispatcher`` and ``sse-serve`` of the SSE package."""
from __future__ import annotations

import logging
from typing import Optional

from werkzeug.wrappers import Response

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..core import Dispatcher, next_dispatcher
from ..server import Stopper, serve
from .broker import BrokerUnavailable
from .source import SSE, parse_last_event_id

__all__ = ["sse_dispatcher", "sse_serve"]

log = logging.getLogger("dispatch.sse")

_RETRY_SOON = b"retry: 1000\n\n"
_HEADERS = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
            # nginx buffers responses unless told not to; events would arrive in bursts.
            ("X-Accel-Buffering", "no")]


def sse_dispatcher(sse: SSE) -> Dispatcher:
    """A dispatcher that streams ``sse``'s events to each GET request; it declines other
    methods.  A ``Last-Event-ID`` header picks up after that id (see
    :func:`~dispatch.sse.source.parse_last_event_id`)."""

    def dispatcher(conn, request):
        if request.method != "GET":
            next_dispatcher()
        try:
            subscriber = sse.subscribe(
                parse_last_event_id(conn.environ.get("HTTP_LAST_EVENT_ID")), conn.socket)
        except BrokerUnavailable as exc:
            # The replay cannot be read now: an empty stream that asks the client to come
            # back in a second with the same Last-Event-ID, so that it misses nothing.  (A
            # 5xx would make EventSource give up for good.)
            log.warning("SSE replay unavailable, client asked to retry: %s", exc)
            conn.respond(Response(_RETRY_SOON, headers=list(_HEADERS)))
            return
        cancel = conn.at_shutdown(subscriber.end)
        if conn.can_detach:
            # No greenlet waits for an idle stream: the source writes to it directly.
            stream = conn.detach("200 OK", list(_HEADERS))
            if _hooks.observer is not None:
                _hooks.observer.sse_opened()

            def ended() -> None:
                if _hooks.observer is not None:
                    _hooks.observer.sse_closed()
                cancel()
                sse.unsubscribe(subscriber)
                subscriber.closed = True

            stream.on_close = ended
            sse.attach(subscriber, stream)
            return

        def stream_events(environ, start_response):
            start_response("200 OK", list(_HEADERS))
            return _ending(sse.stream(subscriber), cancel)

        conn.respond(stream_events)

    return dispatcher


def _ending(body, cancel):
    if _hooks.observer is not None:
        _hooks.observer.sse_opened()
    try:
        yield from body
    finally:
        if _hooks.observer is not None:
            _hooks.observer.sse_closed()
        cancel()


def sse_serve(sse: SSE, port: int = 8000, listen_ip: Optional[str] = None,
              **server_options) -> Stopper:
    """Serve ``sse`` alone on its own port; returns the stop procedure."""
    return serve(sse_dispatcher(sse), port=port, listen_ip=listen_ip, **server_options)
