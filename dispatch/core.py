"""The dispatcher contract.  Racket: ``web-server/dispatchers/dispatch``.

A dispatcher is any callable ``dispatcher(conn, request)``.  It either answers the
request through ``conn`` (``conn.respond(...)`` or ``conn.upgrade(...)``) or declines by
calling :func:`next_dispatcher`, which raises :class:`DispatcherNotApplicable`
(Racket's ``exn:dispatcher``).  Declining must happen before anything reaches the client.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NoReturn

if TYPE_CHECKING:
    from .connection import Connection
    from .http.request import Request

__all__ = ["Dispatcher", "DispatcherNotApplicable", "next_dispatcher"]
__all__ += ["exn_dispatcher"]

#: Racket's ``dispatcher/c``: ``(connection? request? . -> . any)``.
Dispatcher = Callable[["Connection", "Request"], object]


class DispatcherNotApplicable(Exception):
    """Raised by a dispatcher that does not apply to a request.  Racket: ``exn:dispatcher``."""


# One shared instance: declining is the common path of every sequencer, so it should not
# allocate an exception (and a traceback chain) per try.
_DECLINE = DispatcherNotApplicable()


def next_dispatcher() -> NoReturn:
    """Decline the current request so that the next dispatcher may try it.

    Racket: ``next-dispatcher``.
    """
    raise _DECLINE.with_traceback(None)


#: Racket's spelling, ``exn:dispatcher``: the very same class as
#: :class:`DispatcherNotApplicable`.
exn_dispatcher = DispatcherNotApplicable
