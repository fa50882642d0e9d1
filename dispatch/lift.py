"""Lift a ``request -> response`` procedure into a dispatcher.
Racket: ``web-server/dispatchers/dispatch-lift``."""
from __future__ import annotations

from typing import Callable

from .connection import WSGIApp
from .core import Dispatcher

__all__ = ["make"]


def make(proc: Callable[..., WSGIApp]) -> Dispatcher:
    """A dispatcher that answers every request with ``proc(request)``."""

    def lift(conn, request):
        conn.respond(proc(request))

    return lift
