"""Racket's ``tests/web-server/pr/cl-long.rkt``: a body shorter than its Content-Length
("read-bindings: port closed prematurely"), over a real socket."""
from __future__ import annotations

import socket

from servlets import dispatch_servlet, response_jsexpr

try:
    from .http_util import read_all, status_line
except ImportError:  # tests/racket is not a package
    from http_util import read_all, status_line

REQUEST = (b"POST /xapps/agent-stat HTTP/1.1\r\nUser-Agent: curl/7.21.6 (x86_64-pc-linux-gnu) "
           b"libcurl/7.21.6 OpenSSL/1.0.0e zlib/1.2.3.4 libidn/1.22 librtmp/2.3\r\n"
           b"Host: localhost:8080\r\nAccept: */*\r\nContent-Length: 95\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")


# (check-exn ... #rx"read-bindings: port closed prematurely" ...): Racket raises in
# read-request; here the servlet reading its bindings gets a clean 400, never a 500.
def test_body_shorter_than_content_length(served):
    base = served(dispatch_servlet(lambda request: response_jsexpr(request.bindings)))
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(REQUEST)
        s.shutdown(socket.SHUT_WR)  # the port closes before the 95 bytes
        raw = read_all(s)
    assert status_line(raw).startswith(b"HTTP/1.1 400 ")
