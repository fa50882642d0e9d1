"""Racket's ``web-server/http/basic-auth``: re-exported from :mod:`dispatch.http.basic_auth`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.basic_auth import (
    make_basic_auth_header,
    request_to_basic_credentials,
)

__all__ = [
    "make_basic_auth_header", "request_to_basic_credentials"
]
