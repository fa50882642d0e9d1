"""Racket's test data (tests/racket/fixtures/: the request fixtures of
web-server-test/tests/web-server/private/ and the e2e TLS certificate), copied as is."""
from __future__ import annotations

import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def fixture_bytes(name: str) -> bytes:
    """A fixture file of Racket's request tests, as bytes."""
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()
