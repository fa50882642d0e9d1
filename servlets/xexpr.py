"""Racket's ``web-server/http/xexpr``: re-exported from :mod:`dispatch.http.xexpr`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.xexpr import (
    PI,
    CData,
    Comment,
    InvalidXexpr,
    Xexpr,
    xexpr_to_string,
)

__all__ = [
    "CData", "Comment", "InvalidXexpr", "PI", "Xexpr", "xexpr_to_string"
]
