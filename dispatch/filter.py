"""Run a dispatcher only for matching URL paths.
Racket: ``web-server/dispatchers/dispatch-filter``.

The regex may be a ``str`` pattern or, as Racket's ``#rx#"..."``, a ``bytes`` one, which
is searched in the path encoded as UTF-8 (what Racket's byte regexps see).
"""
from __future__ import annotations

import re
from typing import Callable, Optional, Union

from .core import Dispatcher, next_dispatcher

__all__ = ["Regex", "make", "path_searcher"]

#: What every dispatcher here takes as a regex: Racket's ``#rx"..."`` and ``#rx#"..."``.
Regex = Union[str, bytes, "re.Pattern[str]", "re.Pattern[bytes]"]


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from a raw byte
        return text.encode("utf-8", "surrogatepass")


def path_searcher(regex: Regex, what: str = "regex") -> Callable[[str], Optional[re.Match]]:
    """``search(text)`` for a ``str`` or ``bytes`` pattern (compiled or not).

    The type is checked here, at construction, so that a wrong one is a ``TypeError`` in
    the caller's frame rather than a failure on every request.
    """
    if isinstance(regex, (str, bytes)):
        regex = re.compile(regex)
    if not isinstance(regex, re.Pattern):
        raise TypeError(f"{what} must be a str or bytes pattern (or a compiled one), "
                        f"not {type(regex).__name__}: {regex!r}")
    search: Callable = regex.search  # Pattern[str] or Pattern[bytes]
    if isinstance(regex.pattern, bytes):
        return lambda text: search(_utf8(text))
    return search


_PARAMS = re.compile(r";[^/]*")


def make(regex: Regex, inner: Dispatcher) -> Dispatcher:
    """Call ``inner`` when ``regex`` is found (searched, as Racket's ``regexp-match``)
    in the request's URL path; decline otherwise."""
    if not callable(inner):
        raise TypeError(f"filter.make: inner must be a dispatcher, not {inner!r}")
    search = path_searcher(regex, "filter.make: regex")

    def filter_(conn, request):
        path = request.path
        if ";" in path:
            # Racket matches url-path->string, which leaves out path parameters
            # (/a;p=1/b is /a/b): continuation URLs carry their marker that way.
            path = _PARAMS.sub("", path)
        if search(path) is None:
            next_dispatcher()
        return inner(conn, request)

    return filter_
