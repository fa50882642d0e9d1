"""A servlet as a dispatcher.  Racket: ``web-server/servlet-dispatch`` (``dispatch/servlet``,
``serve/launch/wait``)."""
from __future__ import annotations

import inspect
import logging
import math
import reprlib
from typing import Any, Callable, Optional, Tuple

from dispatch.connection import WSGIApp
from dispatch.core import Dispatcher, next_dispatcher
from dispatch.filter import Regex, path_searcher
from dispatch.http.request import Request
from dispatch.http.response import response_full
from dispatch.safety_limits import SafetyLimits

from .servlet_structs import any_to_response

__all__ = ["check_dispatcher", "check_servlet", "dispatch_servlet", "serve_launch_wait"]

log = logging.getLogger("dispatch")


def _name(start: Callable) -> str:
    qualname = getattr(start, "__qualname__", None)
    if qualname is None:
        return repr(start)
    module = getattr(start, "__module__", None)
    return f"{module}.{qualname}" if module else qualname


_short = reprlib.Repr()
_short.maxstring = _short.maxother = 80


def _server_error() -> WSGIApp:
    return response_full(500, None, None, "text/plain; charset=utf-8", [],
                         [b"Internal Server Error\n"])


def _positional_arity(fn: Callable) -> Optional[Tuple[int, float]]:
    """(required, most) positional arguments ``fn`` takes, or None when Python cannot
    tell (some builtins)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    required, most = 0, 0.0
    for p in parameters:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            required += p.default is p.empty
        elif p.kind is p.VAR_POSITIONAL:
            most = math.inf
    return required, most


def check_servlet(start: object, who: str) -> None:
    """Refuse, with a ``TypeError`` naming ``who``, what cannot be a servlet (a procedure
    called with the request).  The rule: a callable whose signature *requires* two or
    more positional arguments is a dispatcher (``conn, request``), not a servlet, and
    one that takes no positional argument cannot be called with the request."""
    if not callable(start):
        raise TypeError(f"{who}: start must be a procedure taking the request, given "
                        f"{type(start).__name__} {start!r}")
    arity = _positional_arity(start)
    if arity is None:
        return
    required, most = arity
    if required >= 2:
        raise TypeError(
            f"{who}: {_name(start)} takes {required} arguments: it is a dispatcher "
            f"(conn, request), not a servlet (request); give it to "
            f"serve_servlet(..., extra_dispatchers=[...]) or serve it with "
            f"dispatch.server.serve")
    if most < 1:
        raise TypeError(f"{who}: {_name(start)} takes no argument; a servlet is called "
                        f"with the request")


def check_dispatcher(dispatcher: object, who: str) -> None:
    """Refuse, with a ``TypeError`` naming ``who``, what cannot be a dispatcher (a
    procedure called with ``conn, request``): a servlet (one argument) is the usual
    mistake."""
    if not callable(dispatcher):
        raise TypeError(f"{who}: a dispatcher is a procedure taking (conn, request), given "
                        f"{type(dispatcher).__name__} {dispatcher!r}")
    arity = _positional_arity(dispatcher)
    if arity is None:
        return
    required, most = arity
    if most < 2:
        hint = " (a servlet? wrap it: dispatch_servlet(start))" if most == 1 else ""
        raise TypeError(f"{who}: {_name(dispatcher)} takes {int(most)} argument(s), a "
                        f"dispatcher takes (conn, request){hint}")
    if required > 2:
        raise TypeError(f"{who}: {_name(dispatcher)} requires {required} arguments, a "
                        f"dispatcher is called with (conn, request)")


def dispatch_servlet(start: Callable[[Request], WSGIApp],
                     regexp: Optional[Regex] = None) -> Dispatcher:
    """A dispatcher that answers with ``start(request)``.

    With ``regexp`` (str or bytes) it applies only to URL paths in which ``regexp`` is
    found (Racket's ``#:regexp``, whose default matches every path).  ``start`` may
    return any WSGI application: a :mod:`servlets.response` constructor's result or a
    werkzeug Response, or a value that the converter of
    :func:`servlets.servlet_structs.set_any_to_response` turns into one (Racket's
    ``any->response``).  Anything else (a str, a dict, None, ... with the default
    converter) is answered with a 500 and one log line naming the servlet and what it
    returned.  A dispatcher given as ``start`` (it requires two positional arguments:
    see :func:`check_servlet`) is a ``TypeError`` here.
    """
    check_servlet(start, "dispatch_servlet")
    search = path_searcher(regexp, "dispatch_servlet: regexp") if regexp is not None else None

    def servlet(conn, request):
        if search is not None and search(request.path) is None:
            next_dispatcher()
        response = start(request)
        if not callable(response):  # the common case costs this one check
            response = _convert(start, response)
        conn.respond(response)

    return servlet


def _convert(start: Callable, value) -> WSGIApp:
    """What a servlet returned that is not a response: ``any_to_response``'s conversion,
    or a logged 500."""
    response = any_to_response(value)
    if response is None:
        log.error("servlet %s returned %s %s, not a response (return "
                  "response_xexpr(...), response_full(...) or another WSGI application, "
                  "or register a converter with set_any_to_response)",
                  _name(start), type(value).__name__, _short.repr(value))
        return _server_error()
    return response


def serve_launch_wait(make_dispatcher: Callable[[Any], Dispatcher], *,
                      launch_path: Optional[str] = None, connection_close: bool = False,
                      banner: bool = True, listen_ip: Optional[str] = "127.0.0.1",
                      port: int = 8000, max_waiting: int = 511,
                      safety_limits: Optional[SafetyLimits] = None,
                      ssl_cert: Optional[str] = None, ssl_key: Optional[str] = None,
                      stop_timeout: float = 2.0, **server_options: Any) -> None:
    """Serve ``make_dispatcher(quit)`` until ``quit.set()`` is called; then stop.  Racket:
    ``serve/launch/wait``, whose semaphore is ``quit`` here (a ``gevent.event.Event``:
    ``quit.set()`` is ``semaphore-post``)::

        def make_dispatcher(quit):
            def bye(request):
                quit.set()
                return response_xexpr(("p", "Bye!"))
            return sequencer.make(filter.make("^/quit$", lift.make(bye)), ...)

        serve_launch_wait(make_dispatcher, port=8000)

    ``launch_path`` (a path such as ``"/"``) opens that page in a browser; ``banner``
    prints where the application runs (the port actually bound: ``port=0`` takes a
    free one) and that it stopped.  ``connection_close=True`` closes each connection
    after one answer.  ``safety_limits`` (by default ``make_safety_limits(max_waiting=
    max_waiting)``), ``ssl_cert`` with ``ssl_key`` (https) and ``server_options`` go to
    the server.  SIGINT and SIGTERM stop it too.  Stopping is graceful: requests in
    flight, the one that set ``quit`` among them, get up to ``stop_timeout`` seconds
    (Racket sleeps two seconds).  A port that cannot be bound raises ``OSError`` after
    the banner's explanation (Racket prints it and returns)."""

    import gevent
    import gevent.event

    from dispatch.safety_limits import make_safety_limits
    from dispatch.server import serve_ports, wait_then_stop

    from .banner import print_start_error, server_url

    if not callable(make_dispatcher):
        raise TypeError(f"serve_launch_wait: make_dispatcher must be a procedure taking "
                        f"the quit event, given {make_dispatcher!r}")
    if safety_limits is None:
        safety_limits = make_safety_limits(max_waiting=max_waiting)
    ssl = bool(ssl_cert and ssl_key)
    if ssl:
        server_options.setdefault("certfile", str(ssl_cert))
        server_options.setdefault("keyfile", str(ssl_key))
    quit_event = gevent.event.Event()
    dispatcher = make_dispatcher(quit_event)
    try:
        stoppers = serve_ports(dispatcher, [port], listen_ip=listen_ip,
                               connection_close=connection_close,
                               safety_limits=safety_limits, **server_options)
    except OSError as error:
        if banner:
            print_start_error(error, port)
        raise
    stop = stoppers.stoppers[0]
    root = server_url(stop.port, ssl)
    if launch_path is not None:
        import webbrowser

        gevent.get_hub().threadpool.spawn(webbrowser.open, root + launch_path)
    if banner:
        url = root + launch_path if launch_path is not None else root
        print(f"Your Web application is running at {url}.")
        print("Stop this program at any time to terminate the Web Server.", flush=True)
    try:
        wait_then_stop(stop, quit_event, stop_timeout)
    finally:
        if banner:
            print("\nWeb Server stopped.", flush=True)
