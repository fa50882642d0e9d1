"""Port of web-server-test/tests/web-server/e2e/read-write: a servlet echoing the body,
``#:request-read-timeout 1 #:response-send-timeout 1``."""
from __future__ import annotations

import time

import gevent
import requests

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output
from tests.http.rawhttp import Conn


def read_write(request):
    body = request.post_data
    return response_output(lambda out: out.write(body))


def _base(served) -> str:
    return served(dispatch_servlet(read_write), safety_limits=make_safety_limits(
        request_read_timeout=1, response_send_timeout=1))


def test_sending_and_receiving_data(served):
    response = requests.post(_base(served), data=b"hello world", timeout=5)
    assert "hello world" in response.text


def test_sending_data_too_slowly(served):
    """A client trickling its request line a byte every 0.25 s is cut off: the server
    closes within a bounded time (Racket: the client's write fails, EPIPE)."""
    port = int(_base(served).rsplit(":", 1)[1])
    start = time.monotonic()
    with Conn(port) as conn:
        for byte in b"POST / HTTP/1.1\r\nHost: a\r\n":
            if not conn.send(bytes([byte])) or conn.closes(within=0) or conn.reset:
                break
            gevent.sleep(0.25)  # the slow client under test, not a synchronisation
        closed = conn.eof or conn.send_failed or conn.closes(within=3)
    assert closed and time.monotonic() - start < 6
