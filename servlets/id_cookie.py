"""Racket's ``web-server/http/id-cookie``: re-exported from :mod:`dispatch.http.id_cookie`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.id_cookie import (
    logout_id_cookie,
    make_id_cookie,
    make_secret_salt_file,
    request_id_cookie,
    valid_id_cookie,
)

__all__ = [
    "logout_id_cookie", "make_id_cookie", "make_secret_salt_file", "request_id_cookie",
    "valid_id_cookie"
]
