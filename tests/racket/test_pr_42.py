"""Racket's ``tests/web-server/pr/42.rkt``: request lines whose path starts with ``//``
keep their empty first segment (``read-request-line``), over a real socket."""
from __future__ import annotations

import pytest

from servlets import dispatch_servlet, response_full

try:
    from .http_util import raw_exchange
except ImportError:  # tests/racket is not a package
    from http_util import raw_exchange


@pytest.mark.parametrize("target, path", [
    ("/foo", "/foo"),            # (path/param "foo" '())
    ("/foo/bar", "/foo/bar"),    # "foo" "bar"
    ("//foo/bar", "//foo/bar"),  # "" "foo" "bar": werkzeug alone would give /foo/bar
])
def test_read_request_line(served, target, path):
    base = served(dispatch_servlet(lambda request: response_full(
        200, None, None, "text/plain", [], [request.path.encode()])))
    port = int(base.rsplit(":", 1)[1])
    raw = raw_exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                       .encode())
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert raw.split(b"\r\n\r\n", 1)[1] == path.encode()
