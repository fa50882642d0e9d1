"""Racket's ``tests/web-server/e2e/head``: HEAD requests must not have a body."""
from __future__ import annotations

import socket

import pytest

from servlets import dispatch_servlet, response_output

try:
    from .http_util import read_all
except ImportError:  # tests/racket is not a package
    from http_util import read_all


def start(request):
    return response_output(lambda out: out.write("hello\n"),
                           headers=[(b"X-Example", b"Found")])


def request(port: int, method: str, path: str, host: str = ""):
    """tests.rkt's ``request``: a raw request, the output closed, then status, headers
    and body lines (split on CRLF)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\n{host}\r\n".encode())
        sock.shutdown(socket.SHUT_WR)
        raw = read_all(sock)
    lines = raw.decode("latin-1").split("\r\n")
    status, rest = lines[0], lines[1:]
    blank = rest.index("")
    return status, rest[:blank], rest[blank + 1:]


def check_head_requests_must_not_have_a_body(port: int, host: str = "") -> None:
    get_status, get_headers, get_body = request(port, "GET", "/", host)
    assert get_status == "HTTP/1.1 200 OK"
    assert any("X-Example" in h for h in get_headers)
    assert get_body == ["6", "hello\n", "0", "", ""]  # in-lines gives no last ""

    head_status, head_headers, head_body = request(port, "HEAD", "/", host)
    assert head_status == "HTTP/1.1 200 OK"
    assert any("X-Example" in h for h in head_headers)
    assert head_body == [""]  # nothing after the blank line


# "HEAD requests must not have a body", with Racket's request lines exactly
@pytest.mark.xfail(strict=True, reason="an HTTP/1.1 request without Host is answered 400, "
                   "as RFC 9112 3.2 requires; Racket's server accepts it")
def test_head_requests_must_not_have_a_body(served):
    check_head_requests_must_not_have_a_body(int(served(dispatch_servlet(start))
                                                 .rsplit(":", 1)[1]))


# the same with a Host field
def test_head_requests_must_not_have_a_body_with_host(served):
    check_head_requests_must_not_have_a_body(int(served(dispatch_servlet(start))
                                                 .rsplit(":", 1)[1]), "Host: x\r\n")
