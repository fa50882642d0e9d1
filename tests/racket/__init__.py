"""Ports of Racket's web-server-test suites (web-server-test/tests/web-server/...)."""
