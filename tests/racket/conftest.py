"""Ports of Racket's web-server tests (web-server-test/tests/web-server/e2e/*/ and
private/request-test.rkt, connection-manager-test.rkt).  They share the raw-socket
helpers of the HTTP/1.1 corpus in tests/http/ (``rawhttp``)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "http"))
