"""Racket's ``tests/web-server/pr/galler2.rkt``: a servlet that raises is answered by
``#:servlet-responder``, over a real socket."""
from __future__ import annotations

import logging

import requests

from servlets import response_xexpr, serve_servlet_dispatcher


def start(req):
    raise RuntimeError("Bad")  # (error "Bad")


# (check-equal? "Good!" (port->string (get-pure-port (string->url ".../"))))
def test_servlet_responder(served, caplog):
    dispatcher = serve_servlet_dispatcher(
        start, servlet_path="/", servlet_responder=lambda url, exn: response_xexpr("Good!"))
    with caplog.at_level(logging.CRITICAL, logger="dispatch"):
        assert requests.get(served(dispatcher) + "/", timeout=5).text == "Good!"
