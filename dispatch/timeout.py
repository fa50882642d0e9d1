"""Change the connection's time-out, then decline.
Racket: ``web-server/dispatchers/dispatch-timeout``."""
from __future__ import annotations

from typing import Optional

from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(new_timeout: Optional[float]) -> Dispatcher:
    """Set the socket time-out to ``new_timeout`` seconds and decline, so the next
    dispatcher serves the request under it (put it first in a sequencer); ``None``
    means no time-out."""
    if new_timeout is not None and (isinstance(new_timeout, bool)
                                    or not isinstance(new_timeout, (int, float))):
        raise TypeError(f"timeout.make: seconds (a number) or None, not {new_timeout!r}")
    if new_timeout is not None and new_timeout < 0:
        raise ValueError(f"timeout.make: a time-out is not negative: {new_timeout!r}")

    def timeout(conn, request):
        conn.set_timeout(new_timeout)
        next_dispatcher()

    return timeout
