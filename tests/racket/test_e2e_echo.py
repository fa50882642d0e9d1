"""Port of web-server-test/tests/web-server/e2e/echo: a servlet that echoes the
``message`` binding with ``response/output`` (Racket: ``dispatch/servlet echo``)."""
from __future__ import annotations

import pytest
import requests

from servlets import dispatch_servlet, response_output


def echo(request):
    msg = request.bindings.get("message")
    msg = "nothing" if msg is None else msg
    return response_output(lambda out: out.write(msg))


@pytest.mark.parametrize("query,expected", [
    ("", "nothing"),               # no query param
    ("?message=", ""),             # with empty query param
    ("?message=hello", "hello"),   # with query param
    ("?message=hello%3D%26", "hello=&"),  # with encoded param
], ids=["no-query-param", "empty-query-param", "query-param", "encoded-param"])
def test_echo(served, query, expected):
    base = served(dispatch_servlet(echo))
    response = requests.get(base + "/" + query, timeout=5)
    assert (response.status_code, response.text) == (200, expected)
