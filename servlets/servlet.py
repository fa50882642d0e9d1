"""A servlet as a dispatcher.  Racket: ``dispatch/servlet`` from ``web-server/servlet-dispatch``."""
from __future__ import annotations

import inspect
import logging
import math
import reprlib
from typing import Callable, Optional, Tuple

from dispatch.connection import WSGIApp
from dispatch.core import Dispatcher, next_dispatcher
from dispatch.filter import Regex, path_searcher
from dispatch.http.request import Request
from dispatch.http.response import response_full

__all__ = ["check_dispatcher", "check_servlet", "dispatch_servlet"]

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


def _positional_arity(fn: Callable) -> Optional[Tuple[int, float]]:
    """(required, most) positional arguments ``fn`` takes, or None when Python cannot
    tell (some builtins)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    required, most = 0, 0.0
    for p in parameters:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            required += p.default is p.empty
        elif p.kind is p.VAR_POSITIONAL:
            most = math.inf
    return required, most


def check_servlet(start: object, who: str) -> None:
    """Refuse, with a ``TypeError`` naming ``who``, what cannot be a servlet (a procedure
    called with the request).  The rule: a callable whose signature *requires* two or
    more positional arguments is a dispatcher (``conn, request``), not a servlet, and
    one that takes no positional argument cannot be called with the request."""
    if not callable(start):
        raise TypeError(f"{who}: start must be a procedure taking the request, given "
                        f"{type(start).__name__} {start!r}")
    arity = _positional_arity(start)
    if arity is None:
        return
    required, most = arity
    if required >= 2:
        raise TypeError(
            f"{who}: {_name(start)} takes {required} arguments: it is a dispatcher "
            f"(conn, request), not a servlet (request); give it to "
            f"serve_servlet(..., extra_dispatchers=[...]) or serve it with "
            f"dispatch.server.serve")
    if most < 1:
        raise TypeError(f"{who}: {_name(start)} takes no argument; a servlet is called "
                        f"with the request")


def check_dispatcher(dispatcher: object, who: str) -> None:
    """Refuse, with a ``TypeError`` naming ``who``, what cannot be a dispatcher (a
    procedure called with ``conn, request``): a servlet (one argument) is the usual
    mistake."""
    if not callable(dispatcher):
        raise TypeError(f"{who}: a dispatcher is a procedure taking (conn, request), given "
                        f"{type(dispatcher).__name__} {dispatcher!r}")
    arity = _positional_arity(dispatcher)
    if arity is None:
        return
    required, most = arity
    if most < 2:
        hint = " (a servlet? wrap it: dispatch_servlet(start))" if most == 1 else ""
        raise TypeError(f"{who}: {_name(dispatcher)} takes {int(most)} argument(s), a "
                        f"dispatcher takes (conn, request){hint}")
    if required > 2:
        raise TypeError(f"{who}: {_name(dispatcher)} requires {required} arguments, a "
                        f"dispatcher is called with (conn, request)")


def dispatch_servlet(start: Callable[[Request], WSGIApp],
                     regexp: Optional[Regex] = None) -> Dispatcher:
    """A dispatcher that answers with ``start(request)``.

    With ``regexp`` (str or bytes) it applies only to URL paths in which ``regexp`` is
    found (Racket's ``#:regexp``, whose default matches every path).  ``start`` may
    return any WSGI application: a :mod:`servlets.response` constructor's result or a
    werkzeug Response.  Anything else (a str, a dict, None, ...) is answered with a 500
    and one log line naming the servlet and what it returned.  A dispatcher given as
    ``start`` (it requires two positional arguments: see :func:`check_servlet`) is a
    ``TypeError`` here.
    """
    check_servlet(start, "dispatch_servlet")
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
