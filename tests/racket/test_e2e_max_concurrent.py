"""Port of web-server-test/tests/web-server/e2e/max-concurrent: ``#:max-concurrent 1
#:max-waiting 10``.  As in Racket, connections over the limit wait their turn (issue
12: "served and the next ones wait", not 503)."""
from __future__ import annotations

import gevent

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output
from tests.http.rawhttp import Conn

REQUEST = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


def app(request):
    return response_output(lambda out: out.write("ok"))


def _port(served) -> int:
    base = served(dispatch_servlet(app),
                  safety_limits=make_safety_limits(max_concurrent=1, max_waiting=10))
    return int(base.rsplit(":", 1)[1])


def test_sequential_requests(served):
    port = _port(served)
    for _ in range(10):
        with Conn(port) as conn:
            conn.send(REQUEST)
            reply = conn.reply()
        assert (reply.status, reply.body) == (200, b"ok")


def test_concurrent_requests(served):
    """Ten connections opened first, then ten requests at once: all ten are served."""
    port = _port(served)
    conns = [Conn(port) for _ in range(10)]
    try:
        def ask(conn):
            conn.send(REQUEST)
            reply = conn.reply(within=10)
            return reply.status, reply.body

        jobs = [gevent.spawn(ask, conn) for conn in conns]
        gevent.joinall(jobs, timeout=15)
        results = [job.value if job.successful() else repr(job.exception) for job in jobs]
    finally:
        for conn in conns:
            conn.close()
    assert results == [(200, b"ok")] * 10
