"""Servlets: requests, responses and the servlet adapter (Racket's ``web-server/http``
and ``web-server/servlet-dispatch``)."""
from .request import Request  # first: dispatch.core's users import it from here
from .response import (
    APPLICATION_JSON_MIME_TYPE,
    TEXT_HTML_MIME_TYPE,
    Response,
    permanently,
    redirect_to,
    redirection_status,
    response_empty,
    response_full,
    response_jsexpr,
    response_output,
    response_xexpr,
    see_other,
    temporarily,
    temporarily_same_method,
)
from .servlet import dispatch_servlet
from .xexpr import PI, CData, Comment, InvalidXexpr, xexpr_to_string

__all__ = [
    "APPLICATION_JSON_MIME_TYPE", "CData", "Comment", "InvalidXexpr", "PI", "Request",
    "Response", "TEXT_HTML_MIME_TYPE",
    "dispatch_servlet", "permanently", "redirect_to", "redirection_status", "response_empty",
    "response_full", "response_jsexpr", "response_output", "response_xexpr", "see_other",
    "temporarily", "temporarily_same_method", "xexpr_to_string",
]
