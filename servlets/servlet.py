"""A servlet as a dispatcher.  Racket: ``dispatch/servlet`` from ``web-server/servlet-dispatch``."""
from __future__ import annotations

import logging
import re
import reprlib
from typing import Callable, Optional, Union

from dispatch.connection import WSGIApp
from dispatch.core import Dispatcher, next_dispatcher

from .request import Request
from .response import response_full

__all__ = ["dispatch_servlet", "path_searcher"]

log = logging.getLogger("dispatch")

Regexp = Union[str, bytes, "re.Pattern"]


def path_searcher(regexp: Regexp, who: str) -> Callable[[str], object]:
    """``search(path)`` for a str or bytes regex (Racket's ``#rx"..."`` and ``#rx#"..."``):
    a bytes regex is searched in the path's UTF-8 bytes, as Racket matches a byte regexp
    against a string."""
    if not isinstance(regexp, (str, bytes, re.Pattern)):
        raise TypeError(f"{who}: regexp must be a str or bytes regex, given "
                        f"{type(regexp).__name__} {regexp!r}")
    pattern = re.compile(regexp)
    if isinstance(pattern.pattern, bytes):
        search_bytes = pattern.search
        return lambda path: search_bytes(path.encode("utf-8", "surrogateescape"))
    return pattern.search


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
                     regexp: Optional[Regexp] = None) -> Dispatcher:
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
    search = path_searcher(regexp, "dispatch_servlet") if regexp is not None else None

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
