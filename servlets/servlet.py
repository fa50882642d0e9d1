"""A servlet as a dispatcher.  Racket: ``dispatch/servlet`` from ``web-server/servlet-dispatch``."""
from __future__ import annotations

import re
from typing import Callable, Optional, Union

from dispatch.connection import WSGIApp
from dispatch.core import Dispatcher, next_dispatcher

from .request import Request

__all__ = ["dispatch_servlet"]


def dispatch_servlet(start: Callable[[Request], WSGIApp],
                     regexp: Optional[Union[str, re.Pattern]] = None) -> Dispatcher:
    """A dispatcher that answers with ``start(request)``.

    With ``regexp`` it applies only to URL paths in which ``regexp`` is found (Racket's
    ``#:regexp``, whose default matches every path).  ``start`` may return any WSGI
    application: a :mod:`servlets.response` constructor's result or a werkzeug Response.
    """
    search = re.compile(regexp).search if regexp is not None else None

    def servlet(conn, request):
        if search is not None and search(request.path) is None:
            next_dispatcher()
        conn.respond(start(request))

    return servlet
