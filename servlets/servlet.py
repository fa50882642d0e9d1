"""A servlet as a dispatcher.  Racket: ``dispatch/servlet`` from ``web-server/servlet-dispatch``."""
from __future__ import annotations

import logging
import reprlib
from typing import Callable, Optional

from dispatch.connection import WSGIApp
from dispatch.core import Dispatcher, next_dispatcher
from dispatch.filter import Regex, path_searcher
from dispatch.http.request import Request
from dispatch.http.response import response_full

__all__ = ["dispatch_servlet"]

log = logging.getLogger("dispatch")


def _name(start: Callable) -> str:
    qualname = getattr(start, "__qualname__", None)
    if qualname is None:
        return repr(start)
    module = getattr(start, "__module__", None)
    return f"{module}.{qualname}" if module else qualname


_short = reprlib.Repr()
_short.maxstring = _short.maxother = 80


def _server_error() -> WSGIApp:
    return response_full(500, None, None, "text/plain; charset=utf-8", [],
                         [b"Internal Server Error\n"])


def dispatch_servlet(start: Callable[[Request], WSGIApp],
                     regexp: Optional[Regex] = None) -> Dispatcher:
    """A dispatcher that answers with ``start(request)``.

    With ``regexp`` (str or bytes) it applies only to URL paths in which ``regexp`` is
    found (Racket's ``#:regexp``, whose default matches every path).  ``start`` may
    return any WSGI application: a :mod:`servlets.response` constructor's result or a
    werkzeug Response.  Anything else (a str, a dict, None, ...) is answered with a 500
    and one log line naming the servlet and what it returned.
    """
    if not callable(start):
        raise TypeError(f"dispatch_servlet: start must be a procedure taking the request, "
                        f"given {type(start).__name__} {start!r}")
    search = path_searcher(regexp, "dispatch_servlet: regexp") if regexp is not None else None

    def servlet(conn, request):
        if search is not None and search(request.path) is None:
            next_dispatcher()
        response = start(request)
        if not callable(response):
            log.error("servlet %s returned %s %s, not a response (return "
                      "response_xexpr(...), response_full(...) or another WSGI application)",
                      _name(start), type(response).__name__, _short.repr(response))
            response = _server_error()
        conn.respond(response)

    return servlet
