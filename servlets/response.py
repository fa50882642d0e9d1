"""Racket's ``web-server/http/response-structs``: re-exported from :mod:`dispatch.http.response`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.response import (
    APPLICATION_JSON_MIME_TYPE,
    TEXT_HTML_MIME_TYPE,
    Headers,
    OutputResponse,
    Response,
    Text,
    permanently,
    redirect_to,
    redirection_status,
    response_code,
    response_empty,
    response_full,
    response_headers,
    response_jsexpr,
    response_message,
    response_mime,
    response_output,
    response_seconds,
    response_xexpr,
    see_other,
    temporarily,
    temporarily_same_method,
)

__all__ = [
    "APPLICATION_JSON_MIME_TYPE", "Headers", "OutputResponse", "permanently",
    "redirect_to", "redirection_status", "Response", "response_empty", "response_full",
    "response_jsexpr", "response_output", "response_xexpr", "see_other", "temporarily",
    "temporarily_same_method", "Text", "TEXT_HTML_MIME_TYPE",
    "response_code", "response_headers", "response_message", "response_mime",
    "response_seconds",
]
