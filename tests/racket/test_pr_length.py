"""Racket's ``tests/web-server/pr/length.rkt``: a response of unknown length (a writer)
with its own message reaches the client whole."""
from __future__ import annotations

import requests

from servlets import dispatch_servlet, response_output


# (response 200 #"Okay" (current-seconds) #"text/html" empty (λ (op) (write-bytes #"PONG" op)))
def test_length(served):
    base = served(dispatch_servlet(lambda request: response_output(
        lambda op: op.write(b"PONG"), code=200, message=b"Okay", mime_type=b"text/html")))
    response = requests.get(base, timeout=5)
    assert (response.status_code, response.reason, response.content) == (200, "Okay", b"PONG")
    assert response.headers["Content-Type"] == "text/html"
