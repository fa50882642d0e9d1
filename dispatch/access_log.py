"""An access log through Python's :mod:`logging`: logger ``dispatch.access``, one line per
request in Apache's combined log format followed by the duration in seconds.

Racket's twin is ``dispatch-logresp`` (:mod:`dispatch.logresp`), which writes its own
file; this one hands each line to ``logging`` so that it goes wherever the application's
logging goes, and it is opt-in: nothing is logged unless a wrapper (or the server) calls
:func:`log_access` and the logger is enabled for ``INFO``::

    logging.basicConfig(level=logging.INFO)
    serve(access_log.make(dispatcher), port=8080)

    127.0.0.1 - - [25/Nov/2026:16:05:02 +0000] "GET /p?x=1 HTTP/1.1" 200 512 "-" "curl/8" 0.000412

The line is built by the same Apache formatter as the ``combined`` format of
:mod:`dispatch.log`, with its escaping: quotes and backslashes escaped, and control and
non-ASCII bytes written as ``\\n``, ``\\t``... or ``\\xhh``, as Apache does, so that no
client can forge a line or a field.  Each record also carries the fields, unescaped, as
attributes (``remote_addr``, ``request_line``, ``status``, ``response_length``,
``duration``, ``referer``, ``user_agent``) for structured formatters.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable, Iterator, Optional

from werkzeug.exceptions import HTTPException

from ._logformat import combined_line, request_line
from .connection import WSGIApp
from .core import Dispatcher, DispatcherNotApplicable

__all__ = ["format_access", "log_access", "logger", "make", "wrap_wsgi"]

logger = logging.getLogger("dispatch.access")


def format_access(environ: dict, status_code: Optional[int],
                  response_length: Optional[int], duration: float,
                  now: Optional[float] = None) -> str:
    """The combined-format line (without a newline) for one request: the line of
    Racket's ``combined`` format (:mod:`dispatch.log`) with the ``REMOTE_USER``, the
    body length and ``"-"`` for an absent header, as Apache writes them, then the
    duration in seconds."""
    line = combined_line(environ, status_code, response_length,
                         environ.get("REMOTE_USER"), now)
    return f"{line} {duration:.6f}"


def log_access(environ: dict, status_code: Optional[int], response_length: Optional[int],
               duration: float) -> None:
    """Log one request on ``dispatch.access`` at ``INFO``.

    ``status_code``: the status sent (101 for an upgrade; ``None`` if none was sent);
    ``response_length``: body bytes sent (``None``: unknown); ``duration``: seconds from
    the request to the end of its response (the whole session for a WebSocket or an
    event stream).  Costs one ``isEnabledFor`` check when the log is off.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    line = format_access(environ, status_code, response_length, duration)
    logger.info("%s", line, extra={
        "remote_addr": environ.get("REMOTE_ADDR"), "request_line": request_line(environ),
        "status": status_code, "response_length": response_length, "duration": duration,
        "referer": environ.get("HTTP_REFERER"), "user_agent": environ.get("HTTP_USER_AGENT")})


class _Measured:
    """A WSGI response whose status and bytes are counted; logged when the server closes
    it (PEP 3333 calls ``close`` at the end, also when the client went away)."""

    def __init__(self, environ: dict, started: float) -> None:
        self.environ = environ
        self.started = started
        self.status: Optional[int] = None
        self.length = 0
        self.body: Optional[Iterable[bytes]] = None
        self.logged = False

    def start_response(self, start_response: Callable) -> Callable:
        def start(status: str, headers: list, exc_info=None):
            self.status = int(status.split(" ", 1)[0])
            write = start_response(status, headers, exc_info)

            def counted_write(data: bytes) -> None:
                self.length += len(data)
                write(data)

            return counted_write

        return start

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body or ():
            self.length += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finish()

    def finish(self, status: Optional[int] = None) -> None:
        if not self.logged:
            self.logged = True
            log_access(self.environ, status if status is not None else self.status,
                       self.length, time.monotonic() - self.started)


def wrap_wsgi(app: WSGIApp) -> WSGIApp:
    """A WSGI middleware logging every request ``app`` answers, including the 404 and
    500 answers of :func:`dispatch.to_wsgi`.  An upgrade (the app never started an HTTP
    response) is logged as 101 once its session ends."""

    def logged(environ: dict, start_response: Callable) -> Iterable[bytes]:
        measured = _Measured(environ, time.monotonic())
        try:
            measured.body = app(environ, measured.start_response(start_response))
        except BaseException:
            measured.finish(500 if measured.status is None else None)
            raise
        if measured.status is None and environ.get("HTTP_UPGRADE"):
            measured.finish(101)
        return measured

    return logged


def make(inner: Dispatcher) -> Dispatcher:
    """A dispatcher logging the requests ``inner`` answers, or fails on (with the status
    :func:`dispatch.to_wsgi` then answers: an ``HTTPException``'s code, else 500).  The
    requests it declines are left to whoever answers them: wrap the whole composition, or
    use :func:`wrap_wsgi` around ``to_wsgi(...)`` to log 404s too.  Upgrades are logged
    as 101 when the dispatcher returns, i.e. when the WebSocket session ends."""

    def access_log(conn, request):
        measured = _Measured(conn.environ, time.monotonic())
        try:
            inner(conn, request)
        except DispatcherNotApplicable:
            raise
        except HTTPException as exc:
            # to_wsgi answers with the exception's own response.
            measured.finish(101 if conn.upgraded is not None else exc.code)
            raise
        except BaseException:
            measured.finish(101 if conn.upgraded is not None else 500)
            raise
        if conn.upgraded is not None:
            measured.finish(101)
            return
        app = conn.response
        if app is None:
            return

        def logged(environ: dict, start_response: Callable) -> Iterable[bytes]:
            try:
                measured.body = app(environ, measured.start_response(start_response))
            except BaseException:
                measured.finish(500 if measured.status is None else None)
                raise
            return measured

        conn.response = logged

    return access_log
