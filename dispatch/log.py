"""Log each request, then decline.  Racket: ``web-server/dispatchers/dispatch-log``.

Put it first in a sequencer: it writes a line for every request that reaches it and
lets the next dispatcher answer.  ``format`` is ``"paren"`` (Racket's ``paren-format``,
the default), ``"extended"``, ``"apache-default"`` or a procedure
``(request, status=None) -> str``; ``log_path`` a file path (appended to) or a stream.
"""
from __future__ import annotations

import os
from typing import IO, Union

from ._logformat import LogFormat, resolve
from .core import Dispatcher, next_dispatcher

__all__ = ["make", "open_log"]


def open_log(log_path: Union[str, os.PathLike, IO]):
    """A write procedure for a path (opened once, line-buffered) or a stream."""
    stream = open(log_path, "a", buffering=1) if isinstance(log_path, (str, os.PathLike)) \
        else log_path

    def write(line: str) -> None:
        stream.write(line)
        stream.flush()

    return write


def make(format: Union[str, LogFormat] = "paren",  # noqa: A002 (Racket's keyword)
         log_path: Union[str, os.PathLike, IO] = "log") -> Dispatcher:
    formatter, write = resolve(format), open_log(log_path)

    def log(conn, request):
        write(formatter(request))
        next_dispatcher()

    return log
