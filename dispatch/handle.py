"""What the server gives the application beside a request: the environ keys it sets and the
interface of the handle it puts under :data:`HANDLER_KEY`.

The engine (:mod:`dispatch.engine`) implements :class:`Handle`; the layers above it
(:mod:`dispatch.connection`, the WebSocket dispatcher, the request, the stateful servlets)
use it only through this interface.  This module imports nothing from ``dispatch``, so
that both sides can import it without importing each other.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Protocol

__all__ = ["HANDLER_KEY", "MAX_BODY_KEY", "SAFETY_LIMITS_KEY", "Handle"]

#: environ key under which this project's server exposes the connection's :class:`Handle`
HANDLER_KEY = "gevent_dispatch.handler"
#: environ key of the server's limit on bodies read whole (safety limits)
MAX_BODY_KEY = "gevent_dispatch.max_body"
#: environ key of the server's :class:`~dispatch.safety_limits.SafetyLimits`
SAFETY_LIMITS_KEY = "gevent_dispatch.safety_limits"


class Handle(Protocol):
    """One client connection of this project's server, as the application sees it."""

    @property
    def socket(self) -> Any:
        """The client's socket (gevent's), or ``None`` once the connection is closed."""

    @property
    def can_detach(self) -> bool:
        """Whether :meth:`detach` works here (a plain socket, not TLS)."""

    def take_over(self, status: str, headers: list,
                  run: Optional[Callable[[Any], object]] = None) -> Any:
        """Send ``status`` and ``headers`` (a ``101``) and hand over the socket as a
        :class:`~dispatch.connection.RawStream`; with ``run``, to ``run(stream)`` in a
        greenlet of its own."""

    def detach(self, status: str, headers: list) -> Any:
        """Send ``status`` and ``headers`` now and return the body's
        :class:`~dispatch.detached.DetachedStream`."""

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at the server's graceful stop; returns the canceller."""
