"""Run a composed dispatcher under gunicorn with gevent workers.

    pip install 'gevent-dispatch[gunicorn]'      # gunicorn with its gevent worker's needs
    gunicorn -k dispatch.gunicorn.Worker -w 4 module:app

where ``app = dispatch.to_wsgi(dispatcher)``.  Each worker is a process that imports
``module`` itself: module-level state and greenlets (a ticker publishing every second)
exist once per worker, so SSE sources and WebSocket groups need a shared broker
(``RedisBroker``), and a ticker must run in one worker only (a Redis lock; see the Redis
notes in the README).  The worker serves with this project's
handler (no automatic WebSocket upgrades, TCP_NODELAY, the fast header parser, safety
limits) and runs the graceful-stop callbacks (WebSockets close with 1001, SSE streams
end) when gunicorn stops a worker.
"""
from __future__ import annotations

from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler

from .server import DispatchHandler, DispatchServer

__all__ = ["Worker"]


class Handler(DispatchHandler, PyWSGIHandler):
    """This project's handler, with gunicorn's environ entries and access log."""


class Server(DispatchServer):
    def close(self) -> None:
        # gunicorn stops a worker with close() and then waits for the connections to
        # end: long-lived ones have to be told here, or they hold it to the timeout.
        was_open = not self.closed
        super().close()
        if was_open:
            self.run_shutdown_callbacks()


class Worker(GeventPyWSGIWorker):
    server_class = Server
    wsgi_handler = Handler
