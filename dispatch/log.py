"""Log each request, then decline.  Racket: ``web-server/dispatchers/dispatch-log``.

Put it first in a sequencer: it writes a line for every request that reaches it and
lets the next dispatcher answer.  ``format`` is one of Racket's format names,
``"parenthesized-default"`` (the default; ``"paren"`` also works), ``"extended"``,
``"apache-default"``, ``"combined"``, or a procedure ``(request) -> str``; ``log_path``
a file path (appended to) or a stream.

The two Apache formats share the access log's formatter (:mod:`dispatch.access_log`):
unlike Racket's, they escape client-sent text as Apache does (quotes, backslashes,
control and non-ASCII bytes), so that no request can forge a line or a field.
"""
from __future__ import annotations

import os
from typing import IO, Union

from . import _logformat
from ._logformat import FORMATS, LogFormat, resolve
from .core import Dispatcher, next_dispatcher

__all__ = ["FORMATS", "apache_default_format", "combined_log_format", "extended_format",
           "log_format_to_format", "make", "open_log", "paren_format"]


def open_log(log_path: Union[str, os.PathLike, IO]):
    """A write procedure for a path (opened once, line-buffered) or a stream."""
    if isinstance(log_path, (str, bytes, os.PathLike)):
        stream: IO = open(log_path, "a", buffering=1)
    elif callable(getattr(log_path, "write", None)):
        stream = log_path
    else:
        raise TypeError(f"log_path must be a path or a writable stream, not {log_path!r}")

    def write(line: str) -> None:
        stream.write(line)
        stream.flush()

    return write


# Racket's dispatch-log formats take the request alone (its logresp ones add the
# response): these are the one-argument forms, so that one passed to logresp.make logs
# "-" for the status, as in Racket.

def paren_format(request) -> str:
    """``(from "CLIENT" to "HOST" for "URI" at "DATE")``.  Racket: ``paren-format``."""
    return _logformat.paren_format(request)


def extended_format(request) -> str:
    """``((client-ip ..) (host-ip ..) (referer ..) (uri ..) (time N))``.
    Racket: ``extended-format``."""
    return _logformat.extended_format(request)


def apache_default_format(request) -> str:
    """``CLIENT - - [DATE] "REQUEST LINE" - -``.  Racket: ``apache-default-format``."""
    return _logformat.apache_default_format(request)


def combined_log_format(request) -> str:
    """Apache's combined format.  Racket: ``combined-log-format``."""
    return _logformat.combined_log_format(request)


_ONE_ARGUMENT = {_logformat.paren_format: paren_format,
                 _logformat.extended_format: extended_format,
                 _logformat.apache_default_format: apache_default_format,
                 _logformat.combined_log_format: combined_log_format}


def log_format_to_format(log_format: str) -> LogFormat:
    """The ``(request) -> str`` procedure of a format name (a ``ValueError`` naming the
    known ones for any other).  Racket: ``log-format->format``."""
    return _ONE_ARGUMENT[_logformat.log_format_to_format(log_format)]


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
