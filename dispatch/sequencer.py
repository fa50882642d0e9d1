"""Try dispatchers in turn.  Racket: ``web-server/dispatchers/dispatch-sequencer``."""
from __future__ import annotations

from .connection import rewind_body
from .core import Dispatcher, DispatcherNotApplicable, next_dispatcher

__all__ = ["make"]


def make(*dispatchers: Dispatcher) -> Dispatcher:
    """A dispatcher that runs each of ``dispatchers`` in order until one applies.

    It declines when all of them decline.  A body that a declining dispatcher read is
    given again, from its start, to the next one.
    """
    chain = tuple(dispatchers)
    for number, dispatcher in enumerate(chain, 1):
        if not callable(dispatcher):
            raise TypeError(f"sequencer.make: dispatcher {number} is not a dispatcher "
                            f"(a callable taking conn and request): {dispatcher!r}")

    def sequencer(conn, request):
        for dispatcher in chain:
            try:
                return dispatcher(conn, request)
            except DispatcherNotApplicable:
                if conn.answered:
                    raise
                rewind_body(request)
        next_dispatcher()

    return sequencer
