"""Log each request, then decline.  Racket: ``web-server/dispatchers/dispatch-log``.

Put it first in a sequencer: it writes a line for every request that reaches it and
lets the next dispatcher answer.  ``format`` is one of Racket's format names,
``"parenthesized-default"`` (the default; ``"paren"`` also works), ``"extended"``,
``"apache-default"``, ``"combined"``, or a procedure ``(request) -> str``; ``log_path``
a file path (appended to) or a stream.
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
from .core import Dispatcher, next_dispatcher

__all__ = ["FORMATS", "apache_default_format", "combined_log_format", "extended_format",
           "log_format_to_format", "make", "open_log", "paren_format"]


def open_log(log_path: Union[str, os.PathLike, IO]):
    """A write procedure for a path (opened once, line-buffered) or a stream."""
    if isinstance(log_path, (str, bytes, os.PathLike)):
        stream = open(log_path, "a", buffering=1)
    elif callable(getattr(log_path, "write", None)):
        stream = log_path
    else:
        raise TypeError(f"log_path must be a path or a writable stream, not {log_path!r}")

    def write(line: str) -> None:
        stream.write(line)
        stream.flush()

    return write


def make(format: Union[str, LogFormat] = "parenthesized-default",  # noqa: A002 (Racket's)
         log_path: Union[str, os.PathLike, IO] = "log") -> Dispatcher:
    """A dispatcher that logs each request and declines.  An unknown format name is a
    ``ValueError`` naming the known ones; a procedure must take the request alone."""
    formatter = resolve(format, "log.make", with_code=False)
    write = open_log(log_path)

    def log(conn, request):
        write(formatter(request))
        next_dispatcher()

    return log
