"""The connection a dispatcher answers through.  Racket: ``connection`` from
``web-server/private/connection-manager``.

A dispatcher answers exactly once, in one of two ways:

* ``conn.respond(response)``: ``response`` is a WSGI application, usually a
  :class:`servlets.Response` (a werkzeug Response).  It runs after the dispatcher returns,
  so a body may stream from an iterator for as long as it likes.
* ``conn.upgrade(headers)``: sends ``101 Switching Protocols`` at once and hands the
  socket to the caller, who owns it until the dispatcher returns (WebSockets).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from . import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from .engine.rawstream import RawStream
from .handle import HANDLER_KEY, MAX_BODY_KEY, SAFETY_LIMITS_KEY, Handle

if TYPE_CHECKING:
    from .http.request import Request

__all__ = ["HANDLER_KEY", "MAX_BODY_KEY", "SAFETY_LIMITS_KEY", "Connection", "RawStream",
           "UpgradeNotSupported", "WSGIApp", "rewind_body", "stop_recording_body"]

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]



def _nothing() -> None:
    pass


class UpgradeNotSupported(RuntimeError):
    """The server running this WSGI callable cannot hand over its socket."""


class Connection:
    """What a dispatcher writes its answer to."""

    __slots__ = ("environ", "start_response", "response", "upgraded")

    def __init__(self, environ: dict, start_response: Callable) -> None:
        self.environ = environ
        self.start_response = start_response
        #: the WSGI application that will answer, once a dispatcher responded
        self.response: Optional[WSGIApp] = None
        #: the stream handed over by :meth:`upgrade`, if any
        self.upgraded: Optional[RawStream] = None

    @property
    def answered(self) -> bool:
        return self.response is not None or self.upgraded is not None

    def respond(self, response: WSGIApp) -> None:
        """Answer with ``response``, any WSGI application (a werkzeug Response is one)."""
        if self.answered:
            raise RuntimeError("this connection was already answered")
        self.response = response

    @property
    def can_upgrade(self) -> bool:
        return HANDLER_KEY in self.environ

    def upgrade(self, headers: list[tuple[str, str]], *,
                run: Optional[Callable[[RawStream], object]] = None) -> RawStream:
        """Send ``101 Switching Protocols`` with ``headers`` and take over the socket.

        The connection is closed once the dispatcher returns.  Racket's WebSocket
        dispatcher does the same on the connection's ports.  With ``run``, the protocol
        after the upgrade runs as ``run(stream)`` in a greenlet of its own instead, and
        the connection is closed when ``run`` returns: the dispatcher returns at once, and
        what the request held (its environ, its parser, the dispatchers' frames) is freed
        for the life of a long connection.
        """
        if self.answered:
            raise RuntimeError("this connection was already answered")
        handler: Optional[Handle] = self.environ.get(HANDLER_KEY)
        if handler is None:
            raise UpgradeNotSupported("the server running this app cannot hand over sockets")
        self.upgraded = handler.take_over("101 Switching Protocols", headers, run=run)
        if _hooks.observer is not None:  # the connection is no HTTP connection any more
            _hooks.observer.connection_upgraded()
        return self.upgraded

    @property
    def can_detach(self) -> bool:
        """Whether :meth:`detach` works here (this project's server, a plain socket)."""
        handler = self.environ.get(HANDLER_KEY)
        return handler is not None and handler.can_detach

    def detach(self, status: str, headers: list[tuple[str, str]]):
        """Send ``status`` and ``headers`` now and return a
        :class:`~dispatch.detached.DetachedStream` for the body: written from any
        greenlet without blocking, it outlives the dispatcher (long-lived streams such
        as SSE then cost no greenlet while idle) and closes the connection when it
        ends."""
        if self.answered:
            raise RuntimeError("this connection was already answered")
        handler: Optional[Handle] = self.environ.get(HANDLER_KEY)
        if handler is None:
            raise UpgradeNotSupported("the server running this app cannot detach streams")
        stream = handler.detach(status, headers)
        self.upgraded = stream  # type: ignore[assignment]
        if _hooks.observer is not None:  # the connection is no HTTP connection any more
            _hooks.observer.connection_upgraded()
        return stream

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` when the server shuts down gracefully (a WebSocket closes with
        1001, an SSE stream ends); returns the procedure that cancels it.  Long-lived
        responses register here and cancel when they end on their own."""
        handler = self.environ.get(HANDLER_KEY)
        if handler is None:
            return _nothing
        return handler.at_shutdown(callback)

    @property
    def socket(self) -> Any:
        """The client's socket, where the server exposes it (else ``None``)."""
        handler = self.environ.get(HANDLER_KEY)
        return handler.socket if handler is not None else None

    def set_timeout(self, seconds: Optional[float]) -> None:
        """Change the socket time-out.  Racket: ``adjust-connection-timeout!``."""
        sock = self.socket
        if sock is not None:
            sock.settimeout(seconds)


def rewind_body(request: Request) -> None:
    """Make the request body readable again from its start, after a dispatcher that read
    it declined: the next dispatcher, or a WSGI application after it, reads it whole.
    The sequencer calls this; a dispatcher that tries others itself should too."""
    stream = request.environ.get("wsgi.input")
    rewind = getattr(stream, "rewind", None)
    if rewind is not None:
        if rewind():
            request.__dict__.pop("stream", None)  # werkzeug's wrapper counted the reads
    elif stream is not None and getattr(stream, "seekable", lambda: False)():
        stream.seek(0)  # a BytesIO (werkzeug's test client)
        request.__dict__.pop("stream", None)


def stop_recording_body(environ: dict) -> None:
    """The response has been chosen: what is read of the body from now on need not be
    kept for :func:`rewind_body`."""
    stream = environ.get("wsgi.input")
    if getattr(stream, "recording", False):
        stream.recording = False  # type: ignore[union-attr]  # recording implies a stream
