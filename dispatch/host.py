"""Pick a dispatcher by host.  Racket: ``web-server/dispatchers/dispatch-host``."""
from __future__ import annotations

from typing import Callable, Optional

from .core import Dispatcher

__all__ = ["make", "request_host"]

#: Racket's ``'none``: the request named no host.
NONE = "none"


def request_host(request) -> str:
    """The host the request names (its URL's, else its Host header's), lower-case,
    without the port; :data:`NONE` when there is none."""
    host: Optional[str] = request.environ.get("HTTP_HOST")
    if not host:
        return NONE
    if host.startswith("["):  # an IPv6 literal, port after the bracket
        return host[:host.index("]") + 1].lower() if "]" in host else host.lower()
    return host.rsplit(":", 1)[0].lower() if ":" in host else host.lower()


def make(lookup_dispatcher: Callable[[str], Dispatcher]) -> Dispatcher:
    """Run ``lookup_dispatcher(host)`` on each request."""

    def host(conn, request):
        return lookup_dispatcher(request_host(request))(conn, request)

    return host
