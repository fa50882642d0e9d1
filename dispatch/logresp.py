"""Log each request with its response status.
Racket: ``web-server/dispatchers/dispatch-logresp``.

Wraps ``inner``: the line is written when the response starts (its status known), in
the formats of :mod:`dispatch.log`, each with the status code added as Racket's logresp
adds it.  A format procedure taking two arguments gets ``(request, code)``; one taking
one gets the request alone (as Racket checks the procedure's arity).
"""
from __future__ import annotations

import os
from typing import IO, Union

from ._logformat import (
    FORMATS,
    LogFormat,
    apache_default_format,
    combined_log_format,
    extended_format,
    log_format_to_format,
    paren_format,
    resolve,
)
from .core import Dispatcher
from .log import open_log

__all__ = ["FORMATS", "apache_default_format", "combined_log_format", "extended_format",
           "log_format_to_format", "make", "paren_format"]


def make(inner: Dispatcher, format: Union[str, LogFormat] = "parenthesized-default",  # noqa: A002
         log_path: Union[str, os.PathLike, IO] = "log") -> Dispatcher:
    if not callable(inner):
        raise TypeError(f"logresp.make: inner must be a dispatcher, not {inner!r}")
    formatter = resolve(format, "logresp.make", with_code=True)
    write = open_log(log_path)

    def logresp(conn, request):
        inner(conn, request)
        if conn.upgraded is not None:
            write(formatter(request, 101))
            return
        app = conn.response
        if app is None:
            return

        def logged(environ, start_response):
            def start(status, headers, exc_info=None):
                write(formatter(request, int(status.split(" ", 1)[0])))
                return start_response(status, headers, exc_info)

            return app(environ, start)

        conn.response = logged

    return logresp
