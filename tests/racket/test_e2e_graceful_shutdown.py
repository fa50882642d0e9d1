"""Port of web-server-test/tests/web-server/e2e/graceful-shutdown: a stop while a
response streams waits for it (``#:max-concurrent 1 #:shutdown-grace-period 6``; here
``stop(timeout=6)``).  Racket's writer sleeps a second between lines; this one 0.2 s."""
from __future__ import annotations

import gevent

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output
from tests.http.rawhttp import Conn


def app(request):
    def writer(out):
        for idx in range(5):
            out.write(f"{idx}\n")
            gevent.sleep(0.2)  # the slow response under test

    return response_output(writer)


def test_waits_for_in_progress_connections_on_stop(served):
    base = served(dispatch_servlet(app), safety_limits=make_safety_limits(
        max_concurrent=1, max_waiting=10))
    stop = served.stoppers[-1]
    with Conn(int(base.rsplit(":", 1)[1])) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        # the first line of the body has arrived: the request is in flight
        assert conn.wait_for(b"0\n", within=5), conn.buf
        stopping = gevent.spawn(stop, timeout=6)
        reply = conn.reply(within=8)
        stopping.join(timeout=8)
    assert reply.status == 200 and reply.reason == b"OK"
    assert reply.body == b"0\n1\n2\n3\n4\n"
    assert stopping.dead
