"""Racket's ``tests/web-server/pr/methods.rkt``: one servlet answers every method with
the method and the request body."""
from __future__ import annotations

import pytest
import requests

from servlets import dispatch_servlet, response_xexpr


def index(request):
    # (p ,(cond ((bytes? (request-post-data/raw req)) ...) (else "No request body")))
    data = request.post_data
    return response_xexpr(("html", ("p", request.method),
                           ("p", data.decode() if isinstance(data, bytes) else
                            "No request body")))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_with_a_body(served, method):
    base = served(dispatch_servlet(index, regexp=""))
    response = requests.request(method, base + "/", data=b"some body", timeout=5,
                                headers={"Content-Type": "text/plain"})
    assert response.text == f"<html><p>{method}</p><p>some body</p></html>"


@pytest.mark.xfail(strict=True, reason="request.post_data is always bytes (b'' without a "
                   "body); Racket's request-post-data/raw is #f for a GET")
def test_get_has_no_request_body(served):
    base = served(dispatch_servlet(index, regexp=""))
    assert requests.get(base + "/", timeout=5).text == \
        "<html><p>GET</p><p>No request body</p></html>"
