"""Turn a composed dispatcher into one WSGI callable.

Racket's ``serve`` takes the dispatcher itself; WSGI servers take an application, so
:func:`to_wsgi` is the seam between the two.  It builds the request and the connection,
runs the dispatcher, and maps the outcome to WSGI:

* declined by every dispatcher -> ``404 Not Found``;
* a werkzeug ``HTTPException`` (``abort(403)``, a too-large body, ...) -> that response;
* any other exception -> ``500``, logged with its traceback; the server and every other
  connection carry on;
* an answer that is not a WSGI application (``conn.respond("text")``) -> ``500`` with one
  log line saying what it was.
"""
from __future__ import annotations

import logging
import reprlib

from werkzeug.exceptions import HTTPException

from .connection import Connection, WSGIApp, stop_recording_body
from .core import Dispatcher, DispatcherNotApplicable
from .http.request import Request
from .http.response import exception_response

__all__ = ["to_wsgi"]

log = logging.getLogger("dispatch")

_NOT_FOUND = b"Not Found\n"
_SERVER_ERROR = b"Internal Server Error\n"


def _plain(status: str, body: bytes, start_response) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


def to_wsgi(dispatcher: Dispatcher, request_class: type[Request] = Request) -> WSGIApp:
    """Return the WSGI application that serves every request through ``dispatcher``."""

    def application(environ: dict, start_response):
        conn = Connection(environ, start_response)
        try:
            dispatcher(conn, request_class(environ))
        except DispatcherNotApplicable:
            if conn.answered:
                # A dispatcher answered and then declined: what was answered stands.
                log.warning("dispatcher declined %s after answering it", environ.get("PATH_INFO"))
            else:
                return _plain("404 Not Found", _NOT_FOUND, start_response)
        except HTTPException as exc:
            if conn.upgraded is None:
                return exception_response(exc, environ)(environ, start_response)
            log.warning("HTTP error after an upgrade: %s", exc)
        except Exception:
            log.exception("dispatcher failed on %s %s",
                          environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            if conn.upgraded is None:
                return _plain("500 Internal Server Error", _SERVER_ERROR, start_response)
        finally:
            # The request put itself in the environ (as werkzeug's does), a reference
            # cycle that would leave both, and the connection the environ names, to the
            # garbage collector; unlinked once the dispatchers are done, they go at once.
            environ.pop("werkzeug.request", None)
        if conn.upgraded is not None:
            return []
        if conn.response is None:
            log.error("dispatcher returned without answering %s", environ.get("PATH_INFO"))
            return _plain("500 Internal Server Error", _SERVER_ERROR, start_response)
        if not callable(conn.response):
            # conn.respond("<p>hi</p>"): one line saying so, not a TypeError from the server
            log.error("a dispatcher answered %s %s with %s %s, not a response (a WSGI "
                      "application such as response_xexpr(...)'s)",
                      environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                      type(conn.response).__name__, reprlib.repr(conn.response))
            return _plain("500 Internal Server Error", _SERVER_ERROR, start_response)
        stop_recording_body(environ)
        return conn.response(environ, start_response)

    application.dispatcher = dispatcher  # type: ignore[attr-defined]
    return application
