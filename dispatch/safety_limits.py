"""Limits that protect a server from its clients.  Racket: ``make-safety-limits`` from
``web-server/safety-limits``, with the same defaults.

=========================  =========  ===============================================
limit                      default    beyond it
=========================  =========  ===============================================
max_waiting                511        the listen backlog: the kernel refuses the rest
max_concurrent             10,000     ``503`` with ``Retry-After``, then close
request_read_timeout       60 s       a request (line and headers) not read by then is
                                      cut: slow clients ("slowloris") are dropped
max_request_line_length    8 KiB      ``414``
max_request_headers        100        ``431``
max_request_header_length  8 KiB      ``431``
max_request_body_length    1 MiB      ``413`` for servlets that read the body whole
response_send_timeout      60 s       a send that makes no progress for this long
                                      drops the connection
=========================  =========  ===============================================

WebSockets lift the socket time-outs once upgraded (their idle time-out and pings take
over); an SSE stream keeps the send time-out, so a client that stops reading is dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["SafetyLimits", "make_safety_limits"]


@dataclass(frozen=True)
class SafetyLimits:
    max_waiting: int = 511
    max_concurrent: int = 10_000
    request_read_timeout: Optional[float] = 60.0
    max_request_line_length: int = 8192
    max_request_headers: int = 100
    max_request_header_length: int = 8192
    max_request_body_length: Optional[int] = 1024 * 1024
    response_send_timeout: Optional[float] = 60.0


def make_safety_limits(**limits) -> SafetyLimits:
    """Racket: ``make-safety-limits``; keywords as :class:`SafetyLimits`' fields."""
    return SafetyLimits(**limits)
