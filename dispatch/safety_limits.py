"""Limits that protect a server from its clients.  Racket: ``make-safety-limits`` from
``web-server/safety-limits``, with the same defaults (and ``make-unlimited-safety-limits``,
which lifts them).

=========================  =========  ===============================================
limit                      default    beyond it
=========================  =========  ===============================================
max_waiting                511        the listen backlog: the kernel refuses the rest
max_concurrent             10,000     served at once; the next connections wait in
                                      the listen backlog until one closes
request_read_timeout       60 s       a request (line and headers) not read by then is
                                      cut: slow clients ("slowloris") are dropped
max_request_line_length    8 KiB      ``414``
max_request_headers        100        ``431``
max_request_header_length  8 KiB      ``431``
max_request_body_length    1 MiB      ``413`` and close, never a truncated body
response_send_timeout      60 s       a send that makes no progress for this long
                                      drops the connection
=========================  =========  ===============================================

``multipart/form-data`` bodies (uploads) are bounded by their own limits, as Racket's,
rather than by ``max_request_body_length``; a request over one gets ``413``:

===============================  ===========  ==========================================
limit                            default
===============================  ===========  ==========================================
max_form_data_fields             100          non-file parts
max_form_data_field_length       8 KiB        bytes of one non-file part
max_form_data_files              100          file parts (a ``filename`` is given)
max_form_data_file_length        10 MiB       bytes of one file
form_data_file_memory_threshold  1 MiB        a file larger than this is spooled to disk
max_form_data_parts              fields +     all parts (by default the sum of the
                                 files        two limits above)
max_form_data_header_length      8 KiB        the header block of one part
===============================  ===========  ==========================================

``None`` lifts a length or count limit (Racket's ``+inf.0``).

WebSockets lift the socket time-outs once upgraded (their idle time-out and pings take
over); an SSE stream keeps the send time-out, so a client that stops reading is dropped.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from typing import Any, Optional

__all__ = ["SafetyLimits", "make_safety_limits"]
__all__ += ["make_unlimited_safety_limits"]


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
    max_form_data_fields: Optional[int] = 100
    max_form_data_field_length: Optional[int] = 8 * 1024
    max_form_data_files: Optional[int] = 100
    max_form_data_file_length: Optional[int] = 10 * 1024 * 1024
    form_data_file_memory_threshold: Optional[int] = 1024 * 1024
    #: -1 (the default) stands for max_form_data_fields + max_form_data_files, as Racket's
    max_form_data_parts: Optional[int] = -1
    max_form_data_header_length: Optional[int] = 8 * 1024

    def __post_init__(self) -> None:
        if self.max_form_data_parts == -1:
            fields, files = self.max_form_data_fields, self.max_form_data_files
            parts = None if fields is None or files is None else fields + files
            object.__setattr__(self, "max_form_data_parts", parts)


    @property
    def max_form_data_length(self) -> Optional[int]:
        """The largest ``multipart/form-data`` body the form-data limits allow, with room
        for each part's boundary and headers (``None``: unbounded)."""
        parts = self.max_form_data_parts
        if parts is None:
            return None
        return _sum(_mul(self.max_form_data_files, self.max_form_data_file_length),
                    _mul(self.max_form_data_fields, self.max_form_data_field_length),
                    _mul(parts, _sum(self.max_form_data_header_length, 256)))


def _sum(*terms: Optional[int]) -> Optional[int]:
    return None if any(t is None for t in terms) else sum(terms)  # type: ignore[arg-type]


def _mul(a: Optional[int], b: Optional[int]) -> Optional[int]:
    return None if a is None or b is None else a * b


def make_safety_limits(**limits) -> SafetyLimits:
    """Racket: ``make-safety-limits``; keywords as :class:`SafetyLimits`' fields."""
    return SafetyLimits(**limits)


def make_unlimited_safety_limits(**limits) -> SafetyLimits:
    """Safety limits that limit nothing but what is given.  Racket:
    ``make-unlimited-safety-limits``: every keyword of :func:`make_safety_limits`, whose
    defaults here are "no limit" instead of the safe ones, except ``max_waiting`` (511,
    the listen backlog, as Racket's) and ``form_data_file_memory_threshold`` (1 MiB: an
    upload larger than this goes to a temporary file; Racket keeps every upload in
    memory, which is no limit on the client but a risk to the server).

    Think twice before using it: a client may then hold a connection open for ever,
    send a request line, headers or a body as large as memory allows, or open
    connections without end.  It suits a trusted network, or finding out which limits an
    application needs; pass those explicitly (``make_unlimited_safety_limits(
    request_read_timeout=60)`` is Racket's behaviour before it had safety limits).

    Times and body or form-data sizes become ``None`` (Racket's ``+inf.0``); the server
    keeps the limits on the request line, the header count and length and the number of
    concurrent connections as integers, so those become ``sys.maxsize``.
    """
    unknown = set(limits) - {f.name for f in fields(SafetyLimits)}
    if unknown:
        raise TypeError(f"make_unlimited_safety_limits: unknown limits {sorted(unknown)}")
    kept = ("max_waiting", "form_data_file_memory_threshold")
    unlimited: dict[str, Any] = {f.name: (sys.maxsize if f.type == "int" else None)
                 for f in fields(SafetyLimits) if f.name not in kept}
    unlimited.update(limits)
    return SafetyLimits(**unlimited)
