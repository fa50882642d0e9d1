"""Racket's ``web-server/http/request-structs``: re-exported from :mod:`dispatch.http.request`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.request import (
    MAX_BODY,
    SAFETY_LIMITS_KEY,
    Header,
    Request,
    header_field,
    header_value,
    headers_assq,
    headers_assq_star,
    is_header,
    make_header,
)

__all__ = [
    "MAX_BODY", "Request", "SAFETY_LIMITS_KEY",
    "Header", "header_field", "header_value", "headers_assq", "headers_assq_star",
    "is_header", "make_header",
]
