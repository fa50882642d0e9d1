"""Racket's ``tests/web-server/servlet/basic-auth-test.rkt``: ``make-basic-auth-header``
and ``request->basic-credentials``."""
from __future__ import annotations

import io

from servlets import Request, make_basic_auth_header, request_to_basic_credentials


def make_req(headers: list) -> Request:
    """Racket's ``make-req``: a GET of http://test.com/foo with exactly ``headers``."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/foo", "QUERY_STRING": "",
               "SERVER_NAME": "test.com", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "REMOTE_ADDR": "client"}
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return Request(environ)


# "make-basic-auth-header"
def test_make_basic_auth_header():
    assert make_basic_auth_header("realm") == ("WWW-Authenticate", 'Basic realm="realm"')


# "Simple"
def test_simple():
    assert request_to_basic_credentials(make_req(
        [("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")])) == (b"Aladdin",
                                                                         b"open sesame")


# "Value error"
def test_value_error():
    assert not request_to_basic_credentials(make_req(
        [("Authorization", "Basic adfadQWxhZGRpb124134jpvcGVu=")]))


# "No header"
def test_no_header():
    assert not request_to_basic_credentials(make_req([]))


# "Case"
def test_case():
    assert request_to_basic_credentials(make_req(
        [("AuthoRIZation", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")])) == (b"Aladdin",
                                                                         b"open sesame")
