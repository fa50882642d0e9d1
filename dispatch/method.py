"""Run a dispatcher only for some methods.  Racket: ``web-server/dispatchers/dispatch-method``."""
from __future__ import annotations

from typing import Iterable, Union

from .core import Dispatcher, next_dispatcher

__all__ = ["make"]

Method = Union[str, bytes]


def _name(method) -> str:
    if isinstance(method, bytes):
        method = method.decode("latin-1")
    if not isinstance(method, str) or not method:
        raise TypeError(f"method.make: a method is a non-empty str or bytes, not {method!r}")
    return method.upper()


def make(method: Union[Method, Iterable[Method]], inner: Dispatcher) -> Dispatcher:
    """Call ``inner`` when the request method is ``method`` (or one of them), compared
    case-insensitively; decline otherwise.  Racket takes ``'get`` or ``'(get head)``."""
    if isinstance(method, (str, bytes)):
        methods = {_name(method)}
    else:
        try:
            methods = {_name(m) for m in method}
        except TypeError as exc:
            if "not iterable" in str(exc):
                raise TypeError(f"method.make: a method or a list of them, not {method!r}") \
                    from None
            raise
        if not methods:
            raise ValueError("method.make: no method given")
    if not callable(inner):
        raise TypeError(f"method.make: inner must be a dispatcher, not {inner!r}")

    def method_(conn, request):
        if request.method.upper() not in methods:
            next_dispatcher()
        return inner(conn, request)

    return method_
