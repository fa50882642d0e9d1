"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-host-test.rkt, ported.

Racket tests its private ``get-host`` (url, headers); here it is ``host._get_host``,
taking the URL's host (or ``None``) and the ``(name, value)`` headers.  Racket's
symbols are strings.
"""
from __future__ import annotations

import socket

import pytest

from dispatch import host, lift
from servlets import response_full

LOWER, UPPER = "www.racket-lang.org", "www.RACKET-lang.org"


def test_get_host_uri_lower():
    # "get-host - uri - lower"
    assert host._get_host(LOWER, []) == "www.racket-lang.org"


def test_get_host_uri_upper():
    # "get-host - uri - upper"
    assert host._get_host(UPPER, []) == "www.racket-lang.org"


@pytest.mark.parametrize("key", ["host", "Host", "HOST"])
@pytest.mark.parametrize("value", [LOWER, UPPER])
def test_get_host_headers(key, value):
    # "get-host - headers - {lower,upper,caps} key - {lower,upper} val" (also as bytes)
    assert host._get_host(None, [(key, value)]) == "www.racket-lang.org"
    assert host._get_host(None, [(key.encode(), value.encode())]) == "www.racket-lang.org"


def test_get_host_none():
    # "get-host - none"
    assert host._get_host(None, []) == "none"


# -- beyond the Racket file: the dispatcher over a socket ---------------------------------

def ask(base, target: bytes, host_header: bytes) -> bytes:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host_header
                     + b"\r\nConnection: close\r\n\r\n")
        reply = b""
        for _ in range(100):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply.rpartition(b"\r\n\r\n")[2]


def test_the_dispatcher_picks_by_host(served):
    d = host.make(lambda name: lift.make(
        lambda r: response_full(200, None, None, "text/plain", [], [name.encode()])))
    base = served(d)
    assert ask(base, b"/", b"www.RACKET-lang.org:8080") == b"www.racket-lang.org"
    with pytest.raises(TypeError):
        host.make("not a procedure")
