"""Run a procedure for one exact path.
Racket: ``web-server/dispatchers/dispatch-pathprocedure``."""
from __future__ import annotations

from typing import Callable

from .connection import WSGIApp
from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(path: str, proc: Callable[..., WSGIApp]) -> Dispatcher:
    """Answer with ``proc(request)`` when the URL path equals ``path`` exactly."""

    def pathprocedure(conn, request):
        if request.path != path:
            next_dispatcher()
        conn.respond(proc(request))

    return pathprocedure
