"""Racket's ``tests/web-server/pr/27.rkt``: a body holding a blank line
(``<html>bad\\r\\n\\r\\nbody</html>``) is served whole, with no error."""
from __future__ import annotations

from servlets import dispatch_servlet, response_output

try:
    from .http_util import dechunk, raw_exchange
except ImportError:  # tests/racket is not a package
    from http_util import dechunk, raw_exchange


# (check-not-exn (lambda () ((make-servlet-tester index) (url->request ""))))
def test_body_with_a_blank_line(served):
    def index(request):
        return response_output(lambda out: out.write(b"<html>bad\r\n\r\nbody</html>"),
                               code=200, message=b"OK", mime_type=None)

    base = served(dispatch_servlet(index))
    raw = raw_exchange(int(base.rsplit(":", 1)[1]),
                       b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert dechunk(raw.split(b"\r\n\r\n", 1)[1]) == b"<html>bad\r\n\r\nbody</html>"
