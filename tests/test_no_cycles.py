"""What a request leaves behind is freed when it is done, not by the garbage collector.

A reference cycle per request (llhttp's parser holding its reader's callbacks; the request
naming itself in its environ as ``werkzeug.request``) leaves the objects to a collection,
and a full collection stops every connection: 15 ms in the middle of a fan-out to 1,000
event streams, once that many had been handed over.  Here the collector is off, and the
objects of the engine and of the request must still be gone once each exchange is over.
"""
from __future__ import annotations

import gc
from collections import Counter

import pytest
from werkzeug.test import EnvironBuilder

import dispatch.filter
import dispatch.sequencer
from dispatch.sse import make_sse, sse_dispatcher
from dispatch.websocket import make_general_websockets_dispatcher, ws_recv, ws_send
from dispatch.wsgi import to_wsgi
from servlets import dispatch_servlet, response_full
from tests.http.rawhttp import Conn
from tests.support import wait_until
from tests.test_ws_hostile import frame, handshake, port_of

#: the classes each exchange makes one of (or more), by name: compiled or pure the same
WATCHED = ("HTTPConnection", "RequestReader", "HttpRequestParser", "Request", "ResponseWriter")
ROUNDS = 20


def live() -> Counter:
    """How many objects of the watched classes exist, unreachable ones included (the
    collector is off: nothing unreachable goes unless its count falls to zero)."""
    return Counter(name for name in (type(o).__name__ for o in gc.get_objects())
                   if name in WATCHED)


def echo(conn, state) -> None:
    ws_send(conn, ws_recv(conn))


@pytest.fixture
def base(served):
    app = dispatch.sequencer.make(
        dispatch.filter.make("^/sse", sse_dispatcher(make_sse())),
        dispatch.filter.make("^/ws$", make_general_websockets_dispatcher(echo)),
        dispatch.filter.make("^/$", dispatch_servlet(
            lambda request: response_full(200, "OK", None, "text/plain", [], [b"hi"]))))
    return served(app)


def _page(base: str) -> None:
    with Conn(port_of(base)) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        replies, closed = client.until_close()
    assert closed and [(r.status, r.body) for r in replies] == [(200, b"hi")]


def _stream_then_leave(base: str) -> None:
    with Conn(port_of(base)) as client:
        client.send(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.wait_for(b"\r\n\r\n") and client.buf.startswith(b"HTTP/1.1 200 ")


def _websocket_echo(base: str) -> None:
    sock, head, data = handshake(port_of(base), path="/ws")
    with sock:
        assert head.startswith(b"HTTP/1.1 101 ")
        sock.sendall(frame(0x1, b"hi"))
        while len(data) < 4 and (chunk := sock.recv(100)):
            data += chunk
        assert data[:4] == b"\x81\x02hi"


@pytest.mark.parametrize("exchange", [_page, _stream_then_leave, _websocket_echo])
def test_an_exchange_leaves_nothing_for_the_collector(base, exchange):
    exchange(base)  # the first one sets up what stays (caches, pools)
    gc.collect()
    gc.disable()
    try:
        before = live()
        for _ in range(ROUNDS):
            exchange(base)
        # the server notices each client's end in its own time: wait for it, bounded
        assert wait_until(lambda: live() == before, 5), \
            f"{live() - before} left over after {ROUNDS} exchanges"
    finally:
        gc.enable()


def test_the_request_is_in_its_environ_while_dispatching_and_not_after():
    seen = []

    def dispatcher(conn, request):
        seen.append(request.environ.get("werkzeug.request") is request)
        conn.respond(response_full(200, "OK", None, "text/plain", [], [b"hi"]))

    environ = EnvironBuilder("/").get_environ()
    statuses = []
    body = b"".join(to_wsgi(dispatcher)(environ, lambda status, headers: statuses.append(status)))
    assert (statuses, body, seen) == (["200 OK"], b"hi", [True])
    assert "werkzeug.request" not in environ
