"""What a client connection needs of the server that accepted it."""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from ..safety_limits import SafetyLimits
from .outbox import Outbox

__all__ = ["ConnectionOwner"]


class ConnectionOwner(Protocol):
    """The listening server, as :class:`~dispatch.engine.http_connection.HTTPConnection`
    uses it (:class:`~dispatch.engine.listener.DispatchServer` is one)."""

    safety_limits: SafetyLimits
    #: the environ entries every request shares
    environ: dict
    #: the WSGI application
    application: Callable
    #: called once a request is answered: (environ, status code, body bytes, seconds)
    access_log: Optional[Callable]
    #: seconds before an idle keep-alive connection gives up its greenlet (None: never)
    park_after: Optional[float]
    #: the connections waiting for a request in their greenlet, which the server's
    #: sweep ends when they last too long
    waiting: set
    #: answers waiting for the end of the hub's turn (see .outbox)
    outbox: Outbox

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at a graceful stop; returns the canceller."""

    def connection_closed(self, conn: object) -> None:
        """``conn`` has closed its socket."""
