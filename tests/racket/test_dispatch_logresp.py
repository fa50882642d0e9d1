"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-logresp-test.rkt, ported.

The request is Racket's hand-made one (see test_dispatch_log.py); the line is written
when the response starts, so each case runs the response as the server would.
"""
from __future__ import annotations

import io
import re
import sys

import pytest
import requests

from dispatch import lift, log, logresp
from dispatch.connection import Connection
from servlets import response_xexpr
from servlets.request import Request


def fake_request(method="GET", uri="whatever", client="nada"):
    return Request({"REQUEST_METHOD": method, "PATH_INFO": "/" + uri, "QUERY_STRING": "",
                    "REQUEST_URI": uri, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                    "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": client,
                    "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                    "wsgi.errors": sys.stderr})


def run(dispatcher, req) -> None:
    """The dispatcher on a fake connection, then its response sent nowhere."""
    conn = Connection(req.environ, None)
    dispatcher(conn, req)
    for _ in conn.response(req.environ, lambda status, headers, exc_info=None: None):
        pass


def test_bad_logger_is_refused_at_make():
    # (logger:make #:format 'this-should-fail ...) raises exn:fail:contract?
    with pytest.raises(ValueError, match="known formats"):
        logresp.make(lift.make(lambda r: None), format="this-should-fail",
                     log_path=io.StringIO())


@pytest.fixture
def op():
    return io.StringIO()


def make_dispatcher(op, formatter, code):
    return logresp.make(lift.make(lambda req: response_xexpr(("hello", "world"), code=code)),
                        format=formatter, log_path=op)


def read_line(op) -> str:
    line, _, rest = op.getvalue().partition("\n")
    op.seek(0)
    op.truncate()
    op.write(rest)
    return line


def test_req_resp_200(op):
    # "req+resp 200": logresp's apache-default, with the response
    run(make_dispatcher(op, logresp.log_format_to_format("apache-default"), 200),
        fake_request())
    assert re.search(r'^nada - - \[[^\]].+\] "GET whatever HTTP/1.1" 200 -$', read_line(op))


def test_req_resp_404(op):
    # "req+resp 404"
    run(make_dispatcher(op, logresp.log_format_to_format("apache-default"), 404),
        fake_request())
    assert re.search(r'^nada - - \[[^\]].+\] "GET whatever HTTP/1.1" 404 -$', read_line(op))


def test_req_200(op):
    # "req 200": dispatch-log's one-argument apache-default passed to logresp
    run(make_dispatcher(op, log.log_format_to_format("apache-default"), 200), fake_request())
    assert re.search(r'^nada - - \[[^\]].+\] "GET whatever HTTP/1.1" - -$', read_line(op))


# -- beyond the Racket file ---------------------------------------------------------------

def test_each_format_adds_the_code_as_racket_does(op):
    for name, pattern in [
        ("parenthesized-default", r'^\(from "nada" to "localhost" for "whatever" at "[^"]+"'
                                  r' code 201\)$'),
        ("extended", r'^\(\(client-ip "nada"\) \(host-ip "localhost"\) \(referer #f\) '
                     r'\(uri "whatever"\) \(time \d+\) \(code 201\)\)$'),
        ("combined", r'^nada - - \[[^\]]+\] "GET whatever HTTP/1.1" 201 - - -$'),
    ]:
        run(make_dispatcher(op, name, 201), fake_request())
        assert re.search(pattern, read_line(op)), name


def test_one_and_two_argument_procedures_over_a_socket(served, op):
    base = served(logresp.make(
        lift.make(lambda req: response_xexpr(("p", "x"), code=202)),
        format=lambda req, code: f"{req.path} {code}\n", log_path=op))
    assert requests.get(base + "/two", timeout=5).status_code == 202
    assert read_line(op) == "/two 202"
    base = served(logresp.make(lift.make(lambda req: response_xexpr(("p", "x"))),
                               format=lambda req: f"{req.path}\n", log_path=op))
    assert requests.get(base + "/one", timeout=5).status_code == 200
    assert read_line(op) == "/one"
