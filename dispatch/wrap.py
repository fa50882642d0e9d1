"""A servlet between a request and a response transformer.
Racket: ``web-server/dispatchers/dispatch-wrap``."""
from __future__ import annotations

from typing import Callable

from .connection import WSGIApp
from .core import Dispatcher

__all__ = ["make"]


def make(servlet: Callable[..., WSGIApp], request_transform: Callable = lambda r: r,
         response_transform: Callable = lambda r: r) -> Dispatcher:
    """Answer with ``response_transform(servlet(request_transform(request)))``."""
    for name, proc in (("servlet", servlet), ("request_transform", request_transform),
                       ("response_transform", response_transform)):
        if not callable(proc):
            raise TypeError(f"wrap.make: {name} must be a procedure, not {proc!r}")

    def wrap(conn, request):
        conn.respond(response_transform(servlet(request_transform(request))))

    return wrap
