"""Serve a dispatcher with gevent.  Racket: ``web-server/web-server`` (``serve``,
``serve/ports``, ``serve/ips+ports``, ``do-not-return``).

``serve(dispatch=..., port=...)`` starts the server in the background and returns the
procedure that stops it, as Racket's ``serve`` does; the caller keeps the process alive
(the seed ends with ``read-line``: here :func:`read_line`).  :func:`serve_forever` is the
blocking form.

The engine underneath is :mod:`dispatch.engine`: a gevent ``StreamServer``
(:class:`DispatchServer`) with a greenlet per connection running :class:`HTTPConnection`,
whose requests the sans-I/O :mod:`dispatch.http11` core reads (llhttp through
``httptools``) and frames.  It replaces gevent's ``pywsgi``, whose framing let requests be
smuggled (it trusts Content-Length beside Transfer-Encoding, parses Content-Length with
``int()``, truncates over-long chunked bodies, and keeps reading after a malformed chunk)
and whose per-request path cost more than the rest of a small request put together.
"""
from __future__ import annotations

import signal
import sys
import warnings
from typing import Any, Callable, Iterable, NoReturn, Optional, Sequence

import gevent
import gevent.event
import gevent.monkey

from .access_log import log_access
from .core import Dispatcher
from .engine.body import Input
from .engine.http_connection import HTTPConnection
from .engine.listener import DispatchServer, reuse_port_listener
from .safety_limits import SafetyLimits
from .wsgi import to_wsgi

__all__ = ["DispatchServer", "HTTPConnection", "Input", "Stopper", "read_line", "serve",
           "serve_forever", "wait_then_stop", "warn_if_not_monkey_patched"]
__all__ += ["Stoppers", "do_not_return", "serve_ips_ports", "serve_ports"]


class Stopper:
    """What :func:`serve` returns: call it to stop the server.

    ``port`` is the port actually bound (useful with ``port=0``).
    """

    def __init__(self, server: DispatchServer) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def address(self) -> tuple:
        return self.server.address

    def __call__(self, timeout: Optional[float] = None) -> None:
        self.server.stop(timeout=timeout)


_warned_unpatched: list[str] = []


def warn_if_not_monkey_patched(who: str) -> bool:
    """Warn once when gevent has not patched the standard library: a blocking call
    (``time.sleep``, a socket, a Redis client) in a handler would then freeze every
    connection.  Returns whether it warned."""
    if gevent.monkey.is_module_patched("socket") or _warned_unpatched:
        return False
    _warned_unpatched.append(who)
    warnings.warn(
        f"{who}: gevent's monkey patching is not in effect, so a blocking call in a "
        "handler (time.sleep, sockets, Redis) stops every connection. Call "
        "gevent.monkey.patch_all() first thing in your program, before other imports.",
        RuntimeWarning, stacklevel=3)
    return True


def serve(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
          safety_limits: SafetyLimits = SafetyLimits(), reuse_port: bool = False,
          reload: bool = False, **server_options) -> Stopper:
    """Serve ``dispatch`` in the background; return the procedure that stops it.

    ``listen_ip=None`` listens on every interface, as Racket's ``#:listen-ip #f``;
    ``port=0`` takes a free port, which ``stopper.port`` tells.  ``reuse_port=True``
    lets several processes serve the same port.  ``safety_limits``:
    see :mod:`dispatch.safety_limits`.  ``server_options``: ``ssl_context=`` (or
    ``certfile=``/``keyfile=``) serves https and wss on the same port; ``access_log=True``
    logs each request to the ``dispatch.access`` logger (see :mod:`dispatch.access_log`),
    or a callable ``(environ, status_code, body_length, seconds)`` is called instead.
    ``reload=True``, while developing, restarts the process when a source file changes
    (:mod:`dispatch.reload`): this process then supervises and never returns from here;
    the restarted one gets the stopper.
    """
    if reload:
        from . import reload as reloading

        return reloading.serve(serve, dispatch, port, listen_ip, safety_limits=safety_limits,
                               reuse_port=reuse_port, **server_options)
    warn_if_not_monkey_patched("serve()")
    server_options.pop("log", None)  # pywsgi's access log: see access_log
    server_options.pop("error_log", None)
    listener = (listen_ip or "", port)
    if reuse_port:
        listener = reuse_port_listener(listener, safety_limits.max_waiting)
    if server_options.get("access_log") is True:
        server_options["access_log"] = log_access
    server = DispatchServer(listener, to_wsgi(dispatch), safety_limits=safety_limits,
                            **server_options)
    server.start()
    return Stopper(server)


def serve_forever(dispatch: Dispatcher, port: int = 80, listen_ip: Optional[str] = None,
                  stop_timeout: float = 10.0, reload: bool = False,
                  **server_options) -> None:
    """Serve ``dispatch`` until SIGTERM or SIGINT, then stop gracefully: stop accepting,
    close WebSockets with 1001, end SSE streams, and give in-flight requests up to
    ``stop_timeout`` seconds.  ``reload=True``: see :func:`serve`."""
    warn_if_not_monkey_patched("serve_forever()")
    stop = serve(dispatch, port=port, listen_ip=listen_ip, reload=reload, **server_options)
    wait_then_stop(stop, gevent.event.Event(), stop_timeout)


def wait_then_stop(stop: Stopper, done: gevent.event.Event, stop_timeout: float) -> None:
    """Wait until ``done`` is set, SIGTERM or SIGINT arrives (or Ctrl-C), then stop the
    server gracefully within ``stop_timeout`` seconds."""
    handlers = []
    try:
        handlers = [gevent.signal_handler(signum, done.set)
                    for signum in (signal.SIGTERM, signal.SIGINT)]
    except ValueError:  # not the main thread: no signal handlers there
        pass
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for handler in handlers:
            handler.cancel()
        stop(timeout=stop_timeout)


def read_line() -> Optional[str]:
    """Read one line from standard input without stopping the server.  Racket: ``read-line``.

    A plain ``input()`` would block the whole process, and every greenlet with it; this
    reads in gevent's thread pool.  Returns ``None`` at end of input.
    """
    line = gevent.get_hub().threadpool.apply(sys.stdin.readline)
    return line.rstrip("\r\n") if line else None


# -- several listeners, and waiting for ever (Racket's serve/ports, serve/ips+ports) ------

class Stoppers:
    """What :func:`serve_ports` and :func:`serve_ips_ports` return: call it to stop every
    server they started.  ``stoppers`` are the :class:`Stopper` of each listener,
    ``ports`` the ports bound (useful with port 0), in the order asked for."""

    def __init__(self, stoppers: Sequence[Stopper]) -> None:
        self.stoppers = list(stoppers)

    @property
    def ports(self) -> list[int]:
        return [stop.port for stop in self.stoppers]

    def __call__(self, timeout: Optional[float] = None) -> None:
        # stop together, not one after the other: each waits up to timeout for its requests
        gevent.joinall([gevent.spawn(stop, timeout) for stop in self.stoppers])


def _close_after_each(app: Callable[[dict, Callable], Any]) -> Callable[[dict, Callable], Any]:
    """``app`` with ``Connection: close`` on every answer: the server closes the
    connection after it (Racket's ``#:connection-close? #t``)."""
    def closing(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Connection", "close")], exc_info)
        return app(environ, start)
    return closing


def _serve_one(dispatch: Dispatcher, port: int, listen_ip: Optional[str],
               connection_close: bool, options: dict) -> Stopper:
    stop = serve(dispatch, port=port, listen_ip=listen_ip, **options)
    if connection_close:  # before any request: the accept loop has not run yet
        stop.server.application = _close_after_each(stop.server.application)
    return stop


def _check_ports(ports, who: str) -> list[int]:
    if isinstance(ports, (int, str, bytes)) or not isinstance(ports, Iterable):
        raise TypeError(f"{who}: ports must be a list of port numbers, given {ports!r}")
    ports = list(ports)
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"{who}: {port!r} is not a port number (0 to 65535)")
    return ports


def serve_ports(dispatch: Dispatcher, ports: Iterable[int] = (80,),
                listen_ip: Optional[str] = None, connection_close: bool = False,
                **serve_options) -> Stoppers:
    """Serve ``dispatch`` on each of ``ports``; return the procedure that stops them all.
    Racket: ``serve/ports``.  The keywords are :func:`serve`'s (``safety_limits``,
    ``ssl_context``, ...), for every port; ``connection_close=True`` closes each
    connection after one answer (Racket's ``#:connection-close?``).

    A port that cannot be bound raises here, after stopping the servers already started
    (Racket reports it on its confirmation channel and keeps the others running)."""
    return _serve_all(dispatch, [(listen_ip, _check_ports(ports, "serve_ports"))],
                      connection_close, serve_options)


def serve_ips_ports(dispatch: Dispatcher,
                    ips_ports: Iterable[tuple[Optional[str], Iterable[int]]] = ((None, (80,)),),
                    connection_close: bool = False, **serve_options) -> Stoppers:
    """Serve ``dispatch`` on every ``(listen_ip, ports)`` of ``ips_ports`` (``None``: every
    interface); return the procedure that stops them all.  Racket: ``serve/ips+ports``,
    whose ``(cons ip ports)`` pairs are ``(ip, ports)`` tuples here.  As
    :func:`serve_ports` otherwise."""
    if isinstance(ips_ports, (str, bytes)) or not isinstance(ips_ports, Iterable):
        raise TypeError(f"serve_ips_ports: ips_ports must be a list of (ip, ports), "
                        f"given {ips_ports!r}")
    plan = []
    for entry in ips_ports:
        if not isinstance(entry, (tuple, list)) or len(entry) != 2 \
                or not (entry[0] is None or isinstance(entry[0], str)):
            raise TypeError(f"serve_ips_ports: each entry is (ip or None, [ports]), "
                            f"given {entry!r}")
        plan.append((entry[0], _check_ports(entry[1], "serve_ips_ports")))
    return _serve_all(dispatch, plan, connection_close, serve_options)


def _serve_all(dispatch: Dispatcher, plan: list, connection_close: bool,
               serve_options: dict) -> Stoppers:
    """Serve on each ``(listen_ip, ports)`` of ``plan``; if one fails, stop the others."""
    started: list[Stopper] = []
    try:
        for listen_ip, ports in plan:
            for port in ports:
                started.append(_serve_one(dispatch, port, listen_ip, connection_close,
                                          serve_options))
    except BaseException:
        Stoppers(started)(0)
        raise
    return Stoppers(started)


def do_not_return() -> NoReturn:
    """Block for ever, letting the servers started in the background serve.  Racket:
    ``do-not-return``: the last line of a program that calls :func:`serve`.  Waiting
    on a timer rather than on an event nobody sets keeps gevent's loop from deciding
    that nothing can ever wake it up (``LoopExit``) when no server runs.  Ctrl-C
    (``KeyboardInterrupt``) still ends it."""
    while True:
        gevent.sleep(3600)
