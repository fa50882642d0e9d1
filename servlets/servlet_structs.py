"""What a servlet may return.  Racket: ``web-server/servlet/servlet-structs``
(``any->response``, ``can-be-response?``, ``set-any->response!``).

A response is any WSGI application (what :mod:`servlets.response` makes, a werkzeug
``Response``): a callable.  A servlet (``dispatch_servlet``, a stateful servlet, the
pages of ``send_suspend`` and ``send_back``) may also return a value that the registered
converter turns into a response::

    set_any_to_response(lambda x: response_xexpr(x) if isinstance(x, tuple) else None)

    def start(request):
        return ("html", ("body", ("p", "an x-expression, converted")))

As in Racket, the default converter converts nothing (returns ``None``), and the
converter is one for the whole process.  A value that no converter accepts is
answered with a ``500`` and one log line naming the servlet and the value.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["any_to_response", "can_be_response", "set_any_to_response"]

Converter = Callable[[Any], Any]


def _no_conversion(value: Any) -> None:
    return None


_converter: Converter = _no_conversion


def any_to_response(value: Any) -> Optional[Callable]:
    """``value`` as a response, or ``None`` when it cannot be one.  Racket:
    ``any->response``.  A response (anything callable) is returned as it is (the very
    same object); anything else goes through the converter set by
    :func:`set_any_to_response`.  A converter that returns something neither callable
    nor ``None``/``False`` raises ``TypeError`` (Racket's contract on its result)."""
    if callable(value):
        return value
    converted = _converter(value)
    if converted is None or converted is False:
        return None
    if not callable(converted):
        raise TypeError(f"any_to_response: the converter {_converter!r} turned "
                        f"{type(value).__name__} into {type(converted).__name__} "
                        f"{converted!r:.80}, not a response or None")
    return converted


def can_be_response(value: Any) -> bool:
    """Whether ``value`` is a response or the converter turns it into one.  Racket:
    ``can-be-response?``."""
    return callable(value) or any_to_response(value) is not None


def set_any_to_response(converter: Converter) -> None:
    """Make ``converter(value) -> response or None`` the conversion used for what
    servlets return.  Racket: ``set-any->response!``.  It is called only for values that
    are not responses already, and should be cheap and give the same answer for the
    same value (it runs when a servlet returns).  ``set_any_to_response(lambda x: None)``
    restores the default."""
    global _converter
    if not callable(converter):
        raise TypeError(f"set_any_to_response: converter must be a procedure taking a "
                        f"value, given {type(converter).__name__} {converter!r}")
    _converter = converter
