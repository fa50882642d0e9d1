"""Drive a dispatcher without a socket, as werkzeug's test ``Client`` drives a WSGI app.

    client = Client(filter.make("^/hello", dispatch_servlet(start)))
    assert client.get("/hello").status_code == 200
    assert declines(filter.make("^/hello", ...), "/other")
"""
from __future__ import annotations

from werkzeug.test import Client as _WerkzeugClient
from werkzeug.test import EnvironBuilder

from servlets.request import Request

from .connection import Connection
from .core import Dispatcher, DispatcherNotApplicable
from .wsgi import to_wsgi

__all__ = ["Client", "declines", "run_dispatcher"]


class Client(_WerkzeugClient):
    """werkzeug's test client around ``to_wsgi(dispatcher)``."""

    def __init__(self, dispatcher: Dispatcher, **kwargs) -> None:
        self.dispatcher = dispatcher
        super().__init__(to_wsgi(dispatcher), **kwargs)


def run_dispatcher(dispatcher: Dispatcher, path: str = "/", **builder_args) -> Connection:
    """Call ``dispatcher`` once on a request built by werkzeug's ``EnvironBuilder``
    and return the connection, whose ``response`` is what the dispatcher answered.
    :class:`DispatcherNotApplicable` propagates."""
    environ = EnvironBuilder(path=path, **builder_args).get_environ()
    conn = Connection(environ, _no_start_response)
    dispatcher(conn, Request(environ))
    return conn


def declines(dispatcher: Dispatcher, path: str = "/", **builder_args) -> bool:
    """Whether ``dispatcher`` declines the request (calls ``next_dispatcher``)."""
    try:
        run_dispatcher(dispatcher, path, **builder_args)
    except DispatcherNotApplicable:
        return True
    return False


def _no_start_response(status, headers, exc_info=None):
    raise RuntimeError("run_dispatcher does not send responses; use Client for that")
