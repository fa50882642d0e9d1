"""Run a composed dispatcher under gunicorn with gevent workers.

    pip install 'gevent-dispatch[gunicorn]'      # gunicorn with its gevent worker's needs
    gunicorn -k dispatch.gunicorn.Worker -w 4 module:app

where ``app = dispatch.to_wsgi(dispatcher)``.  The worker serves with this project's
HTTP engine (:mod:`dispatch.server`: llhttp framing, safety limits, upgrades through
``conn.upgrade``) and runs the graceful-stop callbacks (WebSockets close with 1001, SSE
streams end) when gunicorn stops a worker.

Each worker is a process that imports ``module`` itself: module-level state and greenlets
(a ticker publishing every second) exist once per worker, so SSE sources and WebSocket
groups need a shared broker (``RedisBroker``), and a ticker must run in one worker only
(a Redis lock; see the Redis notes in the README).
"""
from __future__ import annotations

from gunicorn.workers.ggevent import GeventWorker

from .server import DispatchServer

__all__ = ["Worker"]


class Server(DispatchServer):
    """The engine, built as gunicorn's gevent worker builds its servers."""

    def __init__(self, listener, application, *, spawn=None, log=None, handler_class=None,
                 environ=None, **ssl_args) -> None:
        self.gunicorn_log = log
        environ = dict(environ or {})
        environ.pop("wsgi.multithread", None)  # one greenlet a connection, no threads
        super().__init__(listener, application, environ=environ, spawn=spawn, **ssl_args)

    def close(self) -> None:
        # gunicorn stops a worker with close() and then waits for the connections to
        # end: long-lived ones have to be told here, or they hold it to the timeout.
        was_open = not self.closed
        super().close()
        if was_open:
            self.run_shutdown_callbacks()


class Worker(GeventWorker):
    """gunicorn's gevent worker, serving with :class:`Server`."""

    server_class = Server
    wsgi_handler = None
