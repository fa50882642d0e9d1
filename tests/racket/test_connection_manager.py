"""Port of web-server-test/tests/web-server/private/connection-manager-test.rkt.

Racket's connection manager gives each connection a timer: when it fires, the
connection's ports close; ``kill-connection!`` closes them at once; and
``adjust-connection-timeout!`` moves the deadline.  Here the same behaviour is observed
from the client's side of a real socket: the server closes an idle connection after
``request_read_timeout``, a stop closes idle connections at once, and a dispatcher's
``conn.set_timeout`` changes the time the connection may stay quiet.
"""
from __future__ import annotations

import time

import gevent

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_full, response_output
from tests.http.rawhttp import Conn


def ok(request):
    return response_full(200, None, None, "text/plain", [], [b"ok"])


def _port(served, dispatcher=None, **limits) -> int:
    base = served(dispatcher or dispatch_servlet(ok), safety_limits=make_safety_limits(**limits))
    return int(base.rsplit(":", 1)[1])


def test_input_closed_when_the_timer_fires(served):
    """"Input closed": a connection that sends nothing is closed by the server once its
    time is up (a 408 first is allowed)."""
    port = _port(served, request_read_timeout=0.5)
    start = time.monotonic()
    with Conn(port) as conn:
        assert conn.closes(within=5), "the idle connection was never closed"
        assert not conn.buf or conn.buf.startswith(b"HTTP/1.1 408")
    assert 0.4 <= time.monotonic() - start < 5


def test_output_closed_when_the_timer_fires(served):
    """"Output closed": once the server closed, what the client sends goes nowhere
    (no answer, the connection stays closed)."""
    port = _port(served, request_read_timeout=0.5)
    with Conn(port) as conn:
        assert conn.closes(within=5)
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert conn.closes(within=1)
        assert b"200" not in conn.buf


def test_idle_keep_alive_connection_closed_when_the_timer_fires(served):
    """After an answer, a keep-alive connection waits for the next request only as long
    as the read time-out allows."""
    port = _port(served, request_read_timeout=0.5)
    with Conn(port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert conn.reply().status == 200
        assert conn.closes(within=5), "the idle keep-alive connection was never closed"


def test_early_kill(served):
    """"Early kill": stopping the server closes idle connections at once."""
    port = _port(served)
    with Conn(port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert conn.reply().status == 200
        start = time.monotonic()
        stopper = gevent.spawn(served.stoppers[-1], timeout=5)
        assert conn.closes(within=3)
        stopper.join(timeout=5)
    assert time.monotonic() - start < 3


def test_extend_timer(served):
    """"Extend timer": a dispatcher lengthens its connection's time-out; the connection
    outlives the server's default by that much (Racket: at least 2 s for 1 + 1 s)."""
    def slow(conn, request):
        conn.set_timeout(3)

        def writer(out):
            out.write(b"first ")
            gevent.sleep(1.2)  # quiet for longer than response_send_timeout
            out.write(b"second")

        conn.respond(response_output(writer, mime_type="text/plain"))

    port = _port(served, slow, request_read_timeout=0.5, response_send_timeout=0.5)
    start = time.monotonic()
    with Conn(port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        reply = conn.reply(within=5)
    assert (reply.status, reply.body) == (200, b"first second")
    assert time.monotonic() - start >= 1.2
