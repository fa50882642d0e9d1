"""Pick a dispatcher by host.  Racket: ``web-server/dispatchers/dispatch-host``."""
from __future__ import annotations

from typing import Callable, Iterable, Optional, Union
from urllib.parse import urlsplit

from .core import Dispatcher

__all__ = ["NONE", "make", "request_host"]

#: Racket's ``'none``: the request named no host.
NONE = "none"


def _text(value: Union[str, bytes]) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _without_port(host: str) -> str:
    if host.startswith("["):  # an IPv6 literal, port after the bracket
        return host[:host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def _get_host(url_host: Optional[str], headers: Iterable) -> str:
    """The URL's host, else the ``Host`` header's, lower-case; :data:`NONE` without
    either.  Racket: ``get-host`` (which keeps a port; this drops it)."""
    if url_host:
        return _without_port(_text(url_host)).lower()
    for name, value in headers:
        if _text(name).lower() == "host" and _text(value):
            return _without_port(_text(value)).lower()
    return NONE


def request_host(request) -> str:
    """The host the request names: its request-target's when that is an absolute URL
    (RFC 9112 3.2.2: then the ``Host`` header is ignored), else its ``Host`` header's;
    lower-case, without the port; :data:`NONE` when there is none."""
    environ = request.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    url_host = urlsplit(target).netloc.rpartition("@")[2] if "://" in target else None
    host = environ.get("HTTP_HOST")
    return _get_host(url_host, [("Host", host)] if host else [])


def make(lookup_dispatcher: Callable[[str], Dispatcher]) -> Dispatcher:
    """Run ``lookup_dispatcher(host)`` on each request (``host`` as
    :func:`request_host` gives it)."""
    if not callable(lookup_dispatcher):
        raise TypeError(f"host.make: lookup_dispatcher must be a procedure, "
                        f"not {lookup_dispatcher!r}")

    def host(conn, request):
        return lookup_dispatcher(request_host(request))(conn, request)

    return host
