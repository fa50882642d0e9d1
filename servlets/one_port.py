"""What ``serve_servlet(..., extra_dispatchers=[...])`` takes: the dispatchers served on
the servlet's port before it (server-sent events, WebSockets, any dispatcher).

No Racket twin: Racket's ``serve/servlet`` serves one servlet and files; its users who
need more compose dispatchers and call ``serve``.  Each entry is

* a dispatcher (``conn, request``): ``ws_dispatch_rules(...)``,
  ``make_service_mapper_dispatcher(...)``, ``filter.make(...)``, ...;
* a ``ws_service_mapper(...)``, served by ``make_service_mapper_dispatcher``;
* a pair ``(url_regex, what)``: ``what`` (a dispatcher, or an SSE source from
  ``make_sse()``, served by ``sse_dispatcher``) for the paths in which the regex is
  found, as ``dispatch.filter.make``.

Anything else is a ``TypeError`` at the call, and so is a servlet (one argument) given
as a dispatcher.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

import dispatch.filter as filter_  # Racket: (prefix-in filter: ...)
from dispatch.core import Dispatcher
from dispatch.sse import is_sse, sse_dispatcher
from dispatch.websocket.service_mapper import ServiceMapper, make_service_mapper_dispatcher

from .servlet import check_dispatcher

__all__ = ["extra_dispatcher", "extra_dispatchers"]


def extra_dispatcher(entry: Any, who: str = "extra_dispatchers") -> Dispatcher:
    """``entry`` as a dispatcher (see the module's documentation)."""
    if isinstance(entry, tuple) and len(entry) == 2 \
            and isinstance(entry[0], (str, bytes, re.Pattern)):
        regex, inner = entry
        if is_sse(inner):
            inner = sse_dispatcher(inner)
        return filter_.make(regex, extra_dispatcher(inner, who))
    if isinstance(entry, ServiceMapper):
        return make_service_mapper_dispatcher(entry)
    if is_sse(entry):
        raise TypeError(f"{who}: an SSE source needs a path: (r'^/events$', sse)")
    check_dispatcher(entry, who)
    return entry


def extra_dispatchers(entries: Iterable[Any], who: str = "extra_dispatchers") -> list:
    """Each of ``entries`` as a dispatcher, in order."""
    if isinstance(entries, (str, bytes)) or callable(entries) \
            or not isinstance(entries, Iterable):
        raise TypeError(f"{who} is a list of dispatchers, not {type(entries).__name__} "
                        f"{entries!r}")
    if isinstance(entries, tuple) and entries \
            and isinstance(entries[0], (str, bytes, re.Pattern)):
        raise TypeError(f"{who} is a list: write [{entries!r}]")
    return [extra_dispatcher(entry, f"{who}[{i}]") for i, entry in enumerate(entries)]
