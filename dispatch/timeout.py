"""Change the connection's time-out, then decline.
Racket: ``web-server/dispatchers/dispatch-timeout``."""
from __future__ import annotations

from typing import Optional

from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(new_timeout: Optional[float]) -> Dispatcher:
    """Set the socket time-out to ``new_timeout`` seconds and decline, so the next
    dispatcher serves the request under it (put it first in a sequencer)."""

    def timeout(conn, request):
        conn.set_timeout(new_timeout)
        next_dispatcher()

    return timeout
