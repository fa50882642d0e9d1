"""Racket's ``tests/web-server/e2e/echo`` (server.rkt and tests.rkt): a servlet echoing
its ``message`` binding, served on a real port."""
from __future__ import annotations

import pytest
import requests

from servlets import (
    bindings_assq,
    dispatch_servlet,
    request_bindings_raw,
    response_output,
)


def echo(request):
    # (cond [(bindings-assq #"message" (request-bindings/raw req)) => binding:form-value]
    #       [else #"nothing"])
    binding = bindings_assq(b"message", request_bindings_raw(request))
    message = binding.value if binding is not None else "nothing"
    return response_output(lambda out: out.write(message))


def echo_bindings(request):
    return response_output(lambda out: out.write(request.bindings.get("message", "nothing")))


@pytest.mark.parametrize("path, body", [
    ("/", "nothing"),                    # "no query param"
    ("/?message=", ""),                  # "with empty query param"
    ("/?message=hello", "hello"),        # "with query param"
    ("/?message=hello%3D%26", "hello=&"),  # "with encoded param"
])
def test_echo(served, path, body):
    base = served(dispatch_servlet(echo))
    assert requests.get(base + path, timeout=5).text == body


def test_a_key_without_a_value_is_no_binding(served):
    # Racket's request-bindings drop a query key without "=" (url-query gives it #f)
    base = served(dispatch_servlet(echo_bindings))
    assert requests.get(base + "/?message&other=1", timeout=5).text == "nothing"
