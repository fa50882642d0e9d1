"""Log each request with its response status.
Racket: ``web-server/dispatchers/dispatch-logresp``.

Wraps ``inner``: the line is written when the response starts (its status known), in
the formats of :mod:`dispatch.log`.
"""
from __future__ import annotations

import os
from typing import IO, Union

from ._logformat import LogFormat, resolve
from .core import Dispatcher
from .log import open_log

__all__ = ["make"]


def make(inner: Dispatcher, format: Union[str, LogFormat] = "paren",  # noqa: A002
         log_path: Union[str, os.PathLike, IO] = "log") -> Dispatcher:
    formatter, write = resolve(format), open_log(log_path)

    def logresp(conn, request):
        inner(conn, request)
        if conn.upgraded is not None:
            write(formatter(request, 101))
            return
        app = conn.response

        def logged(environ, start_response):
            def start(status, headers, exc_info=None):
                write(formatter(request, int(status.split(" ", 1)[0])))
                return start_response(status, headers, exc_info)

            return app(environ, start)

        conn.response = logged

    return logresp
