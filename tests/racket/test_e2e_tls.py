"""Port of web-server-test/tests/web-server/e2e/tls: https with Racket's test
certificate (``make-ssl-connect@`` there, ``certfile=``/``keyfile=`` here)."""
from __future__ import annotations

import os
import warnings

import requests

from servlets import dispatch_servlet, response_output
from tests.racket.racket_fixtures import FIXTURES


def hello(request):
    return response_output(lambda out: out.write("success!"))


def test_can_get_data(served):
    base = served(dispatch_servlet(hello), certfile=os.path.join(FIXTURES, "cert.pem"),
                  keyfile=os.path.join(FIXTURES, "key.pem"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the test certificate is self-signed
        response = requests.get(base.replace("http://", "https://"), verify=False, timeout=5)
    assert (response.status_code, response.text) == (200, "success!")
