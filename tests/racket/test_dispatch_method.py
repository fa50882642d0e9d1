"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-method.rkt, ported.

Racket's ``'(get)`` / ``'GET`` symbols are strings here (bytes work too).
"""
from __future__ import annotations

import io
import sys

import pytest
import requests

from dispatch import lift, method, sequencer
from dispatch.connection import Connection
from dispatch.core import DispatcherNotApplicable
from servlets import response_full
from servlets.request import Request


def do_nothing_dispatcher(conn, req):
    # connection? request? -> symbol?
    return "do-nothing"


def fake_request_for_method(name: str) -> Request:
    # bytes? -> request?: the URL "whatever", host-ip localhost, port 80
    return Request({"REQUEST_METHOD": name, "PATH_INFO": "/whatever", "QUERY_STRING": "",
                    "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                    "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "whatever",
                    "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                    "wsgi.errors": sys.stderr})


def run(d, r):
    return d(Connection(r.environ, None), r)


def test_method_matches():
    # ; method matches: '(get) and GET
    assert run(method.make(["get"], do_nothing_dispatcher),
               fake_request_for_method("GET")) == "do-nothing"


def test_method_single_symbol_uppercase_name():
    # ; method (single symbol, uppercase name): 'GET and gEt
    assert run(method.make("GET", do_nothing_dispatcher),
               fake_request_for_method("gEt")) == "do-nothing"


def test_method_does_not_match_multiple_options():
    # ; method does not match multiple options: '(get head) and OPTIONS
    with pytest.raises(DispatcherNotApplicable):
        run(method.make(["get", "head"], do_nothing_dispatcher),
            fake_request_for_method("OPTIONS"))


def test_no_match_exception():
    # ; no match, excception: 'POST and GET
    with pytest.raises(DispatcherNotApplicable):
        run(method.make("POST", do_nothing_dispatcher), fake_request_for_method("GET"))


# -- beyond the Racket file ---------------------------------------------------------------

def test_bytes_names_and_mistakes_at_make():
    assert run(method.make([b"get"], do_nothing_dispatcher),
               fake_request_for_method("GET")) == "do-nothing"
    for bad in (42, [42], [], None, ""):
        with pytest.raises((TypeError, ValueError)):
            method.make(bad, do_nothing_dispatcher)


def test_over_a_socket(served):
    answer = lift.make(lambda r: response_full(200, None, None, "text/plain", [], [b"got"]))
    base = served(sequencer.make(method.make(["get", "head"], answer)))
    assert requests.get(base, timeout=5).text == "got"
    assert requests.options(base, timeout=5).status_code == 404
