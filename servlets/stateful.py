"""STUB: stateful servlets.  Racket: ``web-server/servlet`` (``send/suspend`` and the
continuation manager).  Another module replaces this one; until then ``make`` serves
``start`` as a plain servlet and ignores ``manager``."""
from __future__ import annotations

from typing import Any, Callable

from dispatch.core import Dispatcher

from .servlet import dispatch_servlet

__all__ = ["make"]


def make(start: Callable[..., Any], manager: Any = None) -> Dispatcher:
    """The dispatcher serving ``start`` (stub: ``dispatch_servlet(start)``)."""
    return dispatch_servlet(start)
