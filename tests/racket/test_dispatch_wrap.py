"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-wrap-test.rkt, ported.

Racket's dummy request: POST of ``whatever`` with one header, ``Vary: Lisp``.  Racket
reads what the dispatcher wrote on a fake connection; here the response is run as the
server runs it and written out the same way (status line, headers, blank line, body).
"""
from __future__ import annotations

import io
import re
import sys
import time

from dispatch import wrap
from dispatch.connection import Connection
from servlets import response_full
from servlets.request import Request


def count_request_headers(req):
    # request? -> response?
    return response_full(200, "OK", time.time(), None,
                         [("Request-Header-Count", str(len(req.headers)))], [b"hi"])


def inject_request_header(req):
    environ = dict(req.environ, HTTP_JOE="Blow")
    return Request(environ)


def replace_response_body(res):
    res.set_data(b"Intercepted!")
    return res


def identity(x):
    return x


def dummy_request() -> Request:
    return Request({"REQUEST_METHOD": "POST", "PATH_INFO": "/whatever", "QUERY_STRING": "",
                    "HTTP_VARY": "Lisp", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                    "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "whatever",
                    "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                    "wsgi.errors": sys.stderr})


def output(d) -> str:
    """What the dispatcher writes to its connection's output port."""
    req = dummy_request()
    conn = Connection(req.environ, None)
    d(conn, req)
    started = []
    body = b"".join(conn.response(req.environ,
                                  lambda s, h, e=None: started.append((s, h))))
    status, headers = started[0]
    return (f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            + "\r\n" + body.decode())


def test_transform_neither_request_nor_response():
    # "Transform neither request nor response"
    bs = output(wrap.make(count_request_headers, identity, identity))
    assert re.search("\r\nRequest-Header-Count: 1\r\n", bs), bs
    assert re.search("\r\n\r\nhi$", bs), bs


def test_transform_request_do_nothing_to_response():
    # "Transform request, do nothing to response"
    bs = output(wrap.make(count_request_headers, inject_request_header, identity))
    assert re.search("\r\nRequest-Header-Count: 2\r\n", bs), bs
    assert re.search("\r\n\r\nhi$", bs), bs


def test_transform_response_do_nothing_to_request():
    # "Transform response, do nothing to request"
    bs = output(wrap.make(count_request_headers, identity, replace_response_body))
    assert re.search("\r\nRequest-Header-Count: 1\r\n", bs), bs
    assert re.search("\r\n\r\nIntercepted!$", bs), bs


def test_transform_both_request_and_response():
    # "Transform both request and response"
    bs = output(wrap.make(count_request_headers, inject_request_header, replace_response_body))
    assert re.search("\r\nRequest-Header-Count: 2\r\n", bs), bs
    assert re.search("\r\n\r\nIntercepted!$", bs), bs
