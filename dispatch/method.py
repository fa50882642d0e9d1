"""Run a dispatcher only for some methods.  Racket: ``web-server/dispatchers/dispatch-method``."""
from __future__ import annotations

from typing import Iterable, Union

from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(method: Union[str, Iterable[str]], inner: Dispatcher) -> Dispatcher:
    """Call ``inner`` when the request method is ``method`` (or one of them), compared
    case-insensitively; decline otherwise."""
    methods = {method.upper()} if isinstance(method, str) else {m.upper() for m in method}

    def method_(conn, request):
        if request.method.upper() not in methods:
            next_dispatcher()
        return inner(conn, request)

    return method_
