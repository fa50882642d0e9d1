"""make_wsgi_websocket_dispatcher: gevent-websocket applications, unchanged, on this
project's WebSocket connection, with dispatch.websocket.ws_connect as the client."""
import logging

import gevent
import gevent.event
import pytest
import requests
from geventwebsocket.exceptions import WebSocketError

from dispatch import filter, sequencer, wsgi_app
from dispatch.testing import declines
from dispatch.websocket import (
    HandshakeFailed,
    is_eof,
    ws_close,
    ws_conn_close_reason,
    ws_conn_close_status,
    ws_conn_subprotocol,
    ws_connect,
    ws_recv,
    ws_send,
)
from dispatch.websocket.gevent_websocket import make_wsgi_websocket_dispatcher
from tests.support import wait_until


def ws_base(base):
    return base.replace("http://", "ws://")


class Sockets:
    """Flask-Sockets' extension in its own shape (its 0.2.1 release predates werkzeug 2,
    whose routing needs ``websocket=True`` on WebSocket rules): a middleware routing
    ``environ["wsgi.websocket"]`` to handlers, the rest to Flask."""

    def __init__(self, app):
        from werkzeug.routing import Map
        self.url_map = Map()
        self.app = app
        wsgi = app.wsgi_app

        def middleware(environ, start_response):
            from werkzeug.exceptions import HTTPException
            try:
                handler, values = self.url_map.bind_to_environ(environ).match()
                ws = environ["wsgi.websocket"]
            except (HTTPException, KeyError):
                return wsgi(environ, start_response)
            with app.app_context(), app.request_context(environ):
                handler(ws, **values)
            return []

        app.wsgi_app = middleware

    def route(self, rule):
        from werkzeug.routing import Rule

        def decorator(f):
            self.url_map.add(Rule(rule, endpoint=f, websocket=True))
            return f
        return decorator


def flask_sockets_app():
    """The echo of Flask-Sockets' README, with a page beside it, untouched."""
    flask = pytest.importorskip("flask")
    app = flask.Flask(__name__)
    sockets = Sockets(app)

    @sockets.route("/echo")
    def echo_socket(ws):
        while not ws.closed:
            message = ws.receive()
            ws.send(message)

    @app.route("/")
    def hello():
        return "Hello World!"

    return app


def test_flask_sockets_echo_and_its_page_on_one_port(served, caplog):
    app = flask_sockets_app()
    base = served(sequencer.make(make_wsgi_websocket_dispatcher(app), wsgi_app.make(app)))
    assert requests.get(base + "/", timeout=5).text == "Hello World!"
    conn = ws_connect(ws_base(base) + "/echo")
    for message in ("hello", "wörld", b"\x00\xffbinary"):
        ws_send(conn, message, payload_type="binary" if isinstance(message, bytes) else "text")
        assert ws_recv(conn) == message
    with caplog.at_level(logging.DEBUG, logger="dispatch"):
        ws_close(conn)
        # The echo's send after the close raises WebSocketError, as under gevent-websocket;
        # the dispatcher treats that as the app's normal end, not a failure.
        assert wait_until(lambda: any("closed connection" in r.getMessage()
                                      for r in caplog.records))
    assert ws_conn_close_status(conn) == 1000
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_plain_requests_decline_and_the_upgrade_waits_for_acceptance(served):
    seen = []

    def app(environ, start_response):
        seen.append(environ["wsgi.websocket"])
        return []

    dispatcher = make_wsgi_websocket_dispatcher(app)
    assert declines(dispatcher, "/echo")
    assert declines(dispatcher, "/echo", headers={"Upgrade": "h2c"})

    def page(conn, request):
        from servlets import response_full
        conn.respond(response_full(200, None, None, "text/plain", [], [b"page"]))

    # Behind a filter, an upgrade to another path is never answered with 101.
    base = served(sequencer.make(filter.make("^/ws$", dispatcher), page))
    with pytest.raises(HandshakeFailed) as failed:
        ws_connect(ws_base(base) + "/elsewhere")
    assert "200" in failed.value.status
    assert seen == []


def test_the_gevent_websocket_api(served):
    report = {}
    done = gevent.event.Event()

    def app(environ, start_response):
        ws = environ["wsgi.websocket"]
        report.update(path=ws.path, origin=ws.origin, version=ws.version,
                      protocol=ws.protocol, query=environ["QUERY_STRING"])
        first = ws.receive()
        ws.send(first.upper())
        ws.send(b"\x01\x02")  # bytes go as binary by default
        ws.send("as binary", binary=True)
        ws.send(12, binary=False)  # other objects as text: their str()
        report["second"] = ws.receive()
        ws.close(4000, b"bye")
        report["closed"] = ws.closed
        try:
            ws.receive()
        except WebSocketError as exc:
            report["after_close"] = str(exc)
        done.set()
        return []

    # http://example is another site than the server's: allowed by name.
    base = served(make_wsgi_websocket_dispatcher(app, origins=["http://example"]))
    conn = ws_connect(ws_base(base) + "/room/1?x=y", headers={"Origin": "http://example"})
    ws_send(conn, "hi")
    assert ws_recv(conn) == "HI"
    assert ws_recv(conn) == b"\x01\x02"
    assert ws_recv(conn) == b"as binary"
    assert ws_recv(conn) == "12"
    ws_send(conn, b"\x00", payload_type="binary")
    assert is_eof(ws_recv(conn))
    assert (ws_conn_close_status(conn), ws_conn_close_reason(conn)) == (4000, "bye")
    assert done.wait(5)
    assert report == {"path": "/room/1", "origin": "http://example", "version": "13",
                      "protocol": None, "query": "x=y", "second": b"\x00",
                      "closed": True, "after_close": "Connection is already closed"}


def test_receive_is_none_once_the_peer_closes(served):
    results = []

    def app(environ, start_response):
        ws = environ["wsgi.websocket"]
        while True:
            message = ws.receive()
            results.append(message)
            if message is None:
                break
        results.append(ws.closed)
        return []

    base = served(make_wsgi_websocket_dispatcher(app))
    conn = ws_connect(ws_base(base) + "/")
    ws_send(conn, "one")
    ws_close(conn, 1000)
    assert wait_until(lambda: len(results) >= 3)
    assert results == ["one", None, True]


def test_app_protocol_hook_chooses_the_subprotocol(served):
    def app(environ, start_response):
        ws = environ["wsgi.websocket"]
        ws.send(ws.receive())
        return []

    app.app_protocol = lambda path: "chat" if path == "/chat" else None
    base = served(make_wsgi_websocket_dispatcher(app))
    conn = ws_connect(ws_base(base) + "/chat", protocols=["other", "chat"])
    assert ws_conn_subprotocol(conn) == "chat"
    ws_send(conn, "x")
    assert ws_recv(conn) == "x"
    ws_close(conn)
    plain = ws_connect(ws_base(base) + "/plain", protocols=["chat"])
    assert ws_conn_subprotocol(plain) is None
    ws_close(plain)


def test_a_failing_app_is_logged_and_the_socket_closed(served, caplog):
    def app(environ, start_response):
        environ["wsgi.websocket"].receive()
        raise RuntimeError("boom")

    base = served(make_wsgi_websocket_dispatcher(app))
    conn = ws_connect(ws_base(base) + "/")
    with caplog.at_level(logging.ERROR, logger="dispatch"):
        ws_send(conn, "go")
        assert is_eof(ws_recv(conn))
        # The log line follows the close, once the handshake's finish returns.
        assert wait_until(lambda: any(r.exc_info and "boom" in str(r.exc_info[1])
                                      for r in caplog.records))
    assert ws_conn_close_status(conn) == 1011


def test_a_gevent_websocket_resource_chat_broadcasts_over_server_clients(served):
    """gevent-websocket's own framework (Resource, WebSocketApplication), as in its
    README's chat: broadcast over ``ws.handler.server.clients``."""
    from collections import OrderedDict

    from geventwebsocket.resource import Resource, WebSocketApplication

    closed = []
    registry = {}

    class ChatApplication(WebSocketApplication):
        def on_open(self):
            registry["clients"] = self.ws.handler.server.clients

        def on_message(self, message):
            if message is None:
                return
            for client in self.ws.handler.server.clients.values():
                client.ws.send(message)

        def on_close(self, reason):
            closed.append(self.ws.handler.client_address)

    base = served(make_wsgi_websocket_dispatcher(
        Resource(OrderedDict([("^/chat", ChatApplication)]))))
    first = ws_connect(ws_base(base) + "/chat")
    second = ws_connect(ws_base(base) + "/chat")
    # Each server greenlet registers its client before it first waits to read, so once
    # the second's message is broadcast, both are in the registry.
    ws_send(second, "second joined")
    assert ws_recv(second) == "second joined"
    assert ws_recv(first) == "second joined"
    ws_send(first, "hello all")
    assert ws_recv(first) == ws_recv(second) == "hello all"
    ws_close(first)
    # The session leaves the registry once its app returned (as in gevent-websocket).
    assert wait_until(lambda: closed and len(registry["clients"]) == 1)
    assert closed[0][0] == "127.0.0.1"
    ws_send(second, "alone")
    assert ws_recv(second) == "alone"
    ws_close(second)
