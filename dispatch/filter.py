"""Run a dispatcher only for matching URL paths.
Racket: ``web-server/dispatchers/dispatch-filter``.

The regex may be a ``str`` pattern or, as Racket's ``#rx#"..."``, a ``bytes`` one, which
is searched in the path encoded as UTF-8 (what Racket's byte regexps see).
"""
from __future__ import annotations

import re
from typing import Callable, Optional, Union

from .core import Dispatcher, next_dispatcher

__all__ = ["Regex", "make", "path_searcher", "url_path"]

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


def url_path(request) -> str:
    """The request's URL path as Racket's ``url-path->string`` gives it: without path
    parameters (``/a;p=1/b`` is ``/a/b``); continuation URLs carry their marker that way."""
    path = request.path
    return _PARAMS.sub("", path) if ";" in path else path


class _Filter:
    """What :func:`make` returns: a dispatcher that a sequencer can also test without
    calling it (:attr:`search` on :func:`url_path`, then :attr:`inner`), so that a
    declined filter costs one regex search and no exception."""

    __slots__ = ("search", "inner", "regex")

    def __init__(self, search: Callable[[str], Optional[re.Match]], inner: Dispatcher,
                 regex: Regex) -> None:
        self.search = search
        self.inner = inner
        self.regex = regex

    def __call__(self, conn, request):
        if self.search(url_path(request)) is None:
            next_dispatcher()
        return self.inner(conn, request)

    def __repr__(self) -> str:
        return f"filter.make({self.regex!r}, {self.inner!r})"


def make(regex: Regex, inner: Dispatcher) -> Dispatcher:
    """Call ``inner`` when ``regex`` is found (searched, as Racket's ``regexp-match``)
    in the request's URL path; decline otherwise."""
    if not callable(inner):
        raise TypeError(f"filter.make: inner must be a dispatcher, not {inner!r}")
    return _Filter(path_searcher(regex, "filter.make: regex"), inner, regex)
