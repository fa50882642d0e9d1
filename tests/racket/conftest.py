"""Ports of Racket's web-server tests (web-server-test/tests/web-server/e2e/*/ and
private/request-test.rkt, connection-manager-test.rkt).  They share the raw-socket
helpers of the HTTP/1.1 corpus in tests/http/."""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))


def fixture_bytes(name: str) -> bytes:
    """A fixture file of Racket's request tests, as bytes."""
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()
