"""The listening server: a gevent ``StreamServer`` running an :class:`HTTPConnection` for
each client, bounded by the safety limits, with a graceful stop.
"""
from __future__ import annotations

import functools
import logging
import socket
import sys
import time
from typing import TYPE_CHECKING, Callable, Optional

import gevent
from gevent.server import StreamServer

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from ..handle import MAX_BODY_KEY, SAFETY_LIMITS_KEY
from ..safety_limits import SafetyLimits
from .http_connection import HTTPConnection
from .outbox import Outbox
from .owner import ConnectionOwner

__all__ = ["DispatchServer", "reuse_port_listener"]

log = logging.getLogger("dispatch.server")

WSGIApp = Callable[[dict, Callable], object]
# Seconds an idle keep-alive connection keeps its greenlet: a busy client's next request
# comes sooner; after that the connection waits on a watcher alone, without a greenlet
# and its stack (most of what an idle connection costs).
PARK_AFTER = 1.0
_DEFAULT_LIMITS = SafetyLimits()


class DispatchServer(StreamServer):
    """A gevent ``StreamServer`` serving a WSGI application over HTTP/1.1.

    ``max_concurrent`` connections are served at once (a gevent pool); the next ones wait
    in the listen backlog (``max_waiting``), as in Racket's server.
    """

    def __init__(self, listener, application: WSGIApp, *,
                 safety_limits: SafetyLimits = _DEFAULT_LIMITS,
                 environ: Optional[dict] = None,
                 access_log: Optional[Callable] = None, spawn=None,
                 **ssl_args) -> None:
        # Set before gevent's __init__, which may call close() (see gunicorn.Server).
        self.safety_limits = safety_limits
        self.application = application
        #: called once a request is answered: (environ, status code, body bytes, seconds)
        self.access_log: Optional[Callable] = access_log
        self._shutdown_callbacks: dict[int, Callable[[], object]] = {}
        self._next_callback = 0
        self.connections: set = set()  # open connections (HTTPConnection)
        #: connections whose greenlet waits for a request (see sweep())
        self.waiting: set = set()
        #: answers waiting for the end of the hub's turn
        self.outbox = Outbox()
        self._sweeper = None
        # Sockets accepted and not closed yet, counted at the accept: gevent's accept
        # loop takes up to max_accept sockets per wake-up before any of their handlers
        # runs, so the count of registered connections alone lets it overshoot.
        self._accepted = 0
        #: seconds before an idle keep-alive connection gives up its greenlet (None: never)
        self._park_after: Optional[float] = PARK_AFTER
        if isinstance(listener, tuple):
            ssl_args.setdefault("backlog", safety_limits.max_waiting)
        super().__init__(listener, self._handle_connection, spawn=spawn or "default", **ssl_args)
        #: the environ entries every request shares
        self.environ = {
            "wsgi.version": (1, 0), "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "https" if self.ssl_enabled else "http",
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": True, "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "gevent-dispatch", "SERVER_NAME": "", "SERVER_PORT": "",
            "REMOTE_ADDR": "", "REMOTE_PORT": "",
            MAX_BODY_KEY: self.safety_limits.max_request_body_length,
            SAFETY_LIMITS_KEY: self.safety_limits,
        }
        self.environ.update(environ or {})

    def start(self) -> None:
        super().start()
        self.environ["SERVER_NAME"] = self.server_host
        self.environ["SERVER_PORT"] = str(self.server_port)
        self._start_sweeping()

    @property
    def park_after(self) -> Optional[float]:
        """Seconds before an idle keep-alive connection gives up its greenlet (None:
        never); it then waits on an I/O watcher alone."""
        return self._park_after

    @park_after.setter
    def park_after(self, seconds: Optional[float]) -> None:
        self._park_after = seconds
        if self._sweeper is not None:
            self._start_sweeping()  # at the interval the new wait needs

    def _start_sweeping(self) -> None:
        # One timer for every connection's wait for a request, rather than a timer
        # started and cancelled for each request.
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper.close()
        every = self.sweep_interval()
        sweeper = self._sweeper = self.loop.timer(every, every)
        sweeper.start(self.sweep)

    def sweep_interval(self) -> float:
        """Seconds between sweeps: a quarter of the shortest wait they end (so a wait
        ends at most a quarter late), within 0.05 to 0.25 s."""
        waits = [w for w in (self.safety_limits.request_read_timeout, self.park_after)
                 if w is not None]
        return max(0.05, min([0.25] + [w / 4 for w in waits]))

    def sweep(self) -> None:
        """End the waits for a request that have lasted too long (in the hub)."""
        if self.waiting:
            now = time.monotonic()
            for conn in list(self.waiting):
                if conn in self.waiting:  # (an earlier one's turn may have changed it)
                    conn.sweep(now)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper.close()
            self._sweeper = None
        super().close()

    @property
    def server_port(self) -> int:
        address = self.address
        return address[1] if isinstance(address, tuple) else 0

    _server_host: Optional[str] = None

    @property
    def server_host(self) -> str:
        if self._server_host is None:
            address = self.address
            host = address[0] if isinstance(address, tuple) else "localhost"
            self._server_host = (host if host not in ("", "0.0.0.0", "::")
                                 else socket.gethostname())
        return self._server_host

    def full(self) -> bool:  # type: ignore[override]  # gevent's is a method too
        """max_concurrent connections are served; the next ones wait in the listen
        backlog (max_waiting), as in Racket's server, until one closes.  gevent's accept
        loop asks this before each accept."""
        return self._accepted >= self.safety_limits.max_concurrent

    def do_handle(self, *args) -> None:
        self._accepted += 1
        if self.full():
            self.stop_accepting()
        super().do_handle(*args)

    def _handle_connection(self, sock, address) -> None:
        try:
            conn = HTTPConnection(self, sock, address)
        except BaseException:
            self._release()
            raise
        self.connections.add(conn)
        if _hooks.observer is not None:
            _hooks.observer.connection_opened()
        conn.run()

    def wrap_socket_and_handle(self, client_socket, address):
        """TLS: gevent's version closes the TLS socket when the handler returns, but a
        parked keep-alive or detached connection outlives its handler."""
        try:
            tls_socket = self.wrap_socket(client_socket, **self.ssl_args)
        except (OSError, ValueError) as exc:  # a failed handshake: the client's doing
            log.debug("TLS handshake with %s failed: %s", address, exc)
            client_socket.close()
            self._release()
            return None
        return self.handle(tls_socket, address)

    def do_close(self, sock, *args) -> None:
        """gevent closes a client's socket when its handler returns; here a parked or
        detached connection outlives its greenlet, and HTTPConnection.close closes it."""

    def connection_closed(self, conn: HTTPConnection) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            self._release()
            if _hooks.observer is not None:
                _hooks.observer.connection_closed(conn.upgraded)

    def _release(self) -> None:
        """An accepted socket is closed: one more may be accepted."""
        self._accepted -= 1
        if not self.closed and self.started and not self.full():
            self.start_accepting()  # a no-op while accepting

    def at_shutdown(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` at a graceful stop; returns the procedure that cancels it."""
        key = self._next_callback = self._next_callback + 1
        self._shutdown_callbacks[key] = callback
        # (a partial, not a closure: each open WebSocket and stream holds one)
        cancel: Callable[[], object] = functools.partial(self._shutdown_callbacks.pop, key, None)
        return cancel  # type: ignore[return-value]  # what it returns is of no use

    def run_shutdown_callbacks(self) -> None:
        callbacks, self._shutdown_callbacks = self._shutdown_callbacks, {}
        # (a list: a callback may cancel itself, popping from the dict it was in)
        for callback in list(callbacks.values()):
            try:
                callback()
            except Exception:
                log.exception("shutdown callback failed")

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop accepting, tell long-lived responses to end, then let in-flight requests
        finish for up to ``timeout`` seconds (gevent's default when ``None``); idle
        keep-alive connections close at once."""
        self.close()
        self.run_shutdown_callbacks()
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        while self.connections and time.monotonic() < deadline:
            for conn in list(self.connections):
                if not conn.in_request:
                    _end(conn)
            gevent.sleep(0.01)
        for conn in list(self.connections):
            _end(conn)
        super().stop(timeout=0)


def _end(conn: HTTPConnection) -> None:
    """End a connection at a stop: a parked one at once, others through their greenlet."""
    if conn.greenlet is None:
        conn.close()
    else:
        gevent.kill(conn.greenlet)  # a Greenlet or a raw greenlet


def reuse_port_listener(address: tuple, backlog: int):
    """A listening socket that other processes may bind too (SO_REUSEPORT): the kernel
    spreads new connections over them."""
    from gevent import socket as gsocket

    sock = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    sock.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEADDR, 1)
    sock.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(backlog)
    return sock


if TYPE_CHECKING:  # the type checker holds DispatchServer to what connections need of it
    def _is_an_owner(server: DispatchServer) -> ConnectionOwner:
        return server
