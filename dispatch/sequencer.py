"""Try dispatchers in turn.  Racket: ``web-server/dispatchers/dispatch-sequencer``."""
from __future__ import annotations

from .connection import rewind_body
from .core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from .filter import _Filter, url_path

__all__ = ["make"]


def make(*dispatchers: Dispatcher) -> Dispatcher:
    """A dispatcher that runs each of ``dispatchers`` in order until one applies.

    It declines when all of them decline.  A body that a declining dispatcher read is
    given again, from its start, to the next one.
    """
    for number, dispatcher in enumerate(dispatchers, 1):
        if not callable(dispatcher):
            raise TypeError(f"sequencer.make: dispatcher {number} is not a dispatcher "
                            f"(a callable taking conn and request): {dispatcher!r}")
    # A filter's regex is tested here, before anything is called: a filter that does not
    # match declines at the cost of a search, with no exception and nothing to rewind.
    chain = tuple((d.search, d.inner) if type(d) is _Filter else (None, d)
                  for d in dispatchers)

    def sequencer(conn, request):
        path = None
        for search, dispatcher in chain:
            if search is not None:
                if path is None:
                    path = url_path(request)
                if search(path) is None:
                    continue
            try:
                return dispatcher(conn, request)
            except DispatcherNotApplicable:
                if conn.answered:
                    raise
                rewind_body(request)
        next_dispatcher()

    sequencer.dispatchers = dispatchers  # type: ignore[attr-defined]
    return sequencer
