"""HTTP Basic authentication.  Racket: ``web-server/http/basic-auth``.

::

    def start(req):
        credentials = request_to_basic_credentials(req)
        if credentials is None:
            return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                                 [make_basic_auth_header("Members")], [b""])
        user, password = credentials
        ...
"""
from __future__ import annotations

import base64
import binascii
from typing import Optional

__all__ = ["make_basic_auth_header", "request_to_basic_credentials"]


def request_to_basic_credentials(req) -> Optional[tuple]:
    """``(user, password)`` as bytes from ``req``'s ``Authorization: Basic`` header, or
    ``None`` when it is absent, of another scheme or not valid base64 of
    ``user:password``.  Racket: ``request->basic-credentials``."""
    header = req.headers.get("Authorization")
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip().encode("latin-1"), validate=True)
    except (binascii.Error, ValueError, UnicodeError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return user, password


def make_basic_auth_header(realm: str) -> tuple:
    """``("WWW-Authenticate", 'Basic realm="..."')``, asking the browser for a user and
    password.  Racket: ``make-basic-auth-header``."""
    if any(c in realm for c in '"\\\r\n'):
        raise ValueError(f"a realm cannot hold quotes, backslashes or newlines: {realm!r}")
    return ("WWW-Authenticate", f'Basic realm="{realm}"')
