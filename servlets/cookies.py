"""Racket's ``web-server/http/cookie``: re-exported from :mod:`dispatch.http.cookies`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.cookies import (
    ClientCookie,
    Cookie,
    Expires,
    cookie_to_header,
    make_cookie,
    parse_cookie_header,
    request_cookies,
)

__all__ = [
    "ClientCookie", "Cookie", "cookie_to_header", "Expires", "make_cookie",
    "parse_cookie_header", "request_cookies"
]
