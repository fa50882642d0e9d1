"""Run a dispatcher only for matching URL paths.
Racket: ``web-server/dispatchers/dispatch-filter``."""
from __future__ import annotations

import re
from typing import Union

from .core import Dispatcher, next_dispatcher

__all__ = ["make"]


def make(regex: Union[str, re.Pattern], inner: Dispatcher) -> Dispatcher:
    """Call ``inner`` when ``regex`` is found (searched, as Racket's ``regexp-match``)
    in the request's URL path; decline otherwise."""
    search = re.compile(regex).search

    def filter_(conn, request):
        if search(request.path) is None:
            next_dispatcher()
        return inner(conn, request)

    return filter_
