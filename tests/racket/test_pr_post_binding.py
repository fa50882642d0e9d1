"""Racket's ``tests/web-server/pr/post-binding.rkt``: a url-encoded POST body's bindings,
over a real socket."""
from __future__ import annotations

import json

from servlets import dispatch_servlet, response_jsexpr

try:
    from .http_util import raw_exchange
except ImportError:  # tests/racket is not a package
    from http_util import raw_exchange

REQUEST = (b"POST /xapps/agent-stat HTTP/1.1\r\nUser-Agent: curl/7.21.6 (x86_64-pc-linux-gnu) "
           b"libcurl/7.21.6 OpenSSL/1.0.0e zlib/1.2.3.4 libidn/1.22 librtmp/2.3\r\n"
           b"Host: localhost:8080\r\nAccept: */*\r\nContent-Length: 25\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
           b"stat=testing%20via%20curl")


# (check-equal? (request-bindings req) (list (cons 'stat "testing via curl")))
def test_post_binding(served):
    base = served(dispatch_servlet(
        lambda request: response_jsexpr(list(request.bindings.items(multi=True)))))
    raw = raw_exchange(int(base.rsplit(":", 1)[1]), REQUEST)
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1]) == [["stat", "testing via curl"]]
