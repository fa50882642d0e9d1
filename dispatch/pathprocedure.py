"""Run a procedure for one exact path.
Racket: ``web-server/dispatchers/dispatch-pathprocedure``."""
from __future__ import annotations

from typing import Callable, Union

from .connection import WSGIApp
from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(path: Union[str, bytes], proc: Callable[..., WSGIApp]) -> Dispatcher:
    """Answer with ``proc(request)`` when the URL path equals ``path`` exactly
    (``bytes`` are read as UTF-8)."""
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    if not isinstance(path, str):
        raise TypeError(f"pathprocedure.make: path must be a str, not {path!r}")
    if not callable(proc):
        raise TypeError(f"pathprocedure.make: proc must be a procedure, not {proc!r}")

    def pathprocedure(conn, request):
        if request.path != path:
            next_dispatcher()
        conn.respond(proc(request))

    return pathprocedure
