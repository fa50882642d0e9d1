"""Racket's ``web-server/http/digest-auth``: re-exported from :mod:`dispatch.http.digest_auth`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.digest_auth import (
    DIGEST_ALGORITHMS,
    UsernameRealmToDigestHA1,
    UsernameRealmToPassword,
    make_check_digest_credentials,
    make_digest_auth_header,
    password_to_digest_ha1,
    request_to_digest_credentials,
)

__all__ = [
    "DIGEST_ALGORITHMS", "UsernameRealmToDigestHA1", "UsernameRealmToPassword",
    "make_check_digest_credentials", "make_digest_auth_header", "password_to_digest_ha1",
    "request_to_digest_credentials",
]
