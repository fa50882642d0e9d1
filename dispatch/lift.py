"""Lift a ``request -> response`` procedure into a dispatcher.
Racket: ``web-server/dispatchers/dispatch-lift``."""
from __future__ import annotations

from typing import Callable

from .connection import WSGIApp
from .core import Dispatcher

__all__ = ["make"]


def make(proc: Callable[..., WSGIApp]) -> Dispatcher:
    """A dispatcher that answers every request with ``proc(request)``."""
    if not callable(proc):
        raise TypeError(f"lift.make: proc must be a procedure taking the request, not {proc!r}")

    def lift(conn, request):
        conn.respond(proc(request))

    return lift
