"""Response constructors.  Racket: ``web-server/http/response-structs``,
``web-server/http/xexpr``, ``web-server/http/json`` and ``redirect-to``.

Every constructor returns a :class:`Response`, a werkzeug Response and so a WSGI
application, which a dispatcher hands to ``conn.respond``.  ``message`` is the reason
phrase and ``seconds`` (a POSIX time) becomes ``Last-Modified``, as in Racket.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response as _WerkzeugResponse

from .cookies import Cookie, cookie_to_header
from .xexpr import Xexpr, xexpr_to_string

__all__ = [
    "Response", "response_full", "response_output", "response_xexpr", "response_jsexpr",
    "response_empty", "redirect_to", "TEXT_HTML_MIME_TYPE", "APPLICATION_JSON_MIME_TYPE",
]

TEXT_HTML_MIME_TYPE = "text/html; charset=utf-8"
APPLICATION_JSON_MIME_TYPE = "application/json"

Headers = Union[Sequence[tuple[str, str]], dict, None]


class Response(_WerkzeugResponse):
    """A werkzeug Response; what every constructor here returns."""

    default_mimetype = "text/html"

    def __call__(self, environ, start_response):
        # werkzeug's general path (get_wsgi_headers, get_app_iter, ClosingIterator) costs
        # more than the rest of a small request's dispatch; a bytes body whose length is
        # already set needs none of it.
        body = self.response
        if (type(body) is list and len(body) == 1 and type(body[0]) is bytes
                and 200 <= self.status_code < 300 and self.status_code != 204
                and "Content-Length" in self.headers and not self.direct_passthrough):
            start_response(self.status, self.headers.to_wsgi_list())
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else body
        return super().__call__(environ, start_response)


def _make(body, code: int, message: Optional[str], seconds: Optional[float],
          mime_type: Optional[str], headers: Headers, cls=Response,
          cookies: Iterable[Cookie] = ()) -> Response:
    status = f"{code} {message or HTTP_STATUS_CODES.get(code, 'Unknown')}"
    response = cls(body, status=status, headers=headers, content_type=mime_type)
    if seconds is not None:
        response.last_modified = seconds
    for cookie in cookies:  # Racket's #:cookies: one Set-Cookie header each
        response.headers.add(*cookie_to_header(cookie))
    return response


def response_full(code: int, message: Optional[str], seconds: Optional[float],
                  mime_type: Optional[str], headers: Headers,
                  body: Iterable[bytes], *, cookies: Iterable[Cookie] = ()) -> Response:
    """A response with every part given.  Racket: ``response/full``."""
    return _make(list(body) if isinstance(body, (list, tuple)) else body,
                 code, message, seconds, mime_type, headers, cookies=cookies)


class _WriterOutput:
    """The binary port a ``response_output`` writer writes to."""

    __slots__ = ("_write",)

    def __init__(self, write: Callable[[bytes], Any]) -> None:
        self._write = write

    def write(self, data: Union[bytes, str]) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._write(data)
        return len(data)

    def flush(self) -> None:
        """Each write is sent at once; nothing is held back."""


class OutputResponse(Response):
    """A response whose body a writer procedure produces as it runs."""

    writer: Callable[[_WriterOutput], Any]
    automatically_set_content_length = False  # the length is not known in advance

    def __call__(self, environ, start_response):
        # The WSGI write callable sends each piece as the writer produces it, with no
        # greenlet or queue between the writer and the socket.
        headers = self.get_wsgi_headers(environ)
        headers.pop("Content-Length", None)
        write = start_response(self.status, headers.to_wsgi_list())
        if environ.get("REQUEST_METHOD") != "HEAD":
            self.writer(_WriterOutput(write))
        return []


def response_output(writer: Callable[[_WriterOutput], Any], code: int = 200,
                    message: Optional[str] = None, seconds: Optional[float] = None,
                    mime_type: Optional[str] = TEXT_HTML_MIME_TYPE,
                    headers: Headers = None, cookies: Iterable[Cookie] = ()) -> Response:
    """A response streamed by ``writer(out)``, which writes bytes or text to ``out``.
    Racket: ``response/output``."""
    response = _make(None, code, message, seconds, mime_type, headers, cls=OutputResponse,
                     cookies=cookies)
    response.writer = writer
    return response


def response_xexpr(xexpr: Xexpr, code: int = 200, message: Optional[str] = None,
                   seconds: Optional[float] = None, mime_type: str = TEXT_HTML_MIME_TYPE,
                   headers: Headers = None, preamble: bytes = b"",
                   cookies: Iterable[Cookie] = ()) -> Response:
    """An HTML page rendered from an x-expression.  Racket: ``response/xexpr``."""
    body = preamble + xexpr_to_string(xexpr).encode("utf-8")
    return _make(body, code, message, seconds, mime_type, headers, cookies=cookies)


def response_jsexpr(jsexpr: Any, code: int = 200, message: Optional[str] = None,
                    seconds: Optional[float] = None,
                    mime_type: str = APPLICATION_JSON_MIME_TYPE,
                    headers: Headers = None, cookies: Iterable[Cookie] = ()) -> Response:
    """A JSON document.  Racket: ``response/jsexpr``."""
    body = json.dumps(jsexpr, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _make(body, code, message, seconds, mime_type, headers, cookies=cookies)


def response_empty(code: int = 204, message: Optional[str] = None,
                   seconds: Optional[float] = None, headers: Headers = None,
                   cookies: Iterable[Cookie] = ()) -> Response:
    """A response with no body.  Racket: ``response/empty``."""
    response = _make([], code, message, seconds, None, headers, cookies=cookies)
    del response.headers["Content-Type"]
    return response


#: Racket's ``permanently``, ``temporarily`` and ``see-other``.
permanently, temporarily, see_other = 301, 302, 303


def redirect_to(uri: str, perm_temp: int = see_other, headers: Headers = None,
                cookies: Iterable[Cookie] = ()) -> Response:
    """Redirect to ``uri``.  Racket: ``redirect-to`` (``see-other`` by default)."""
    response = _make([], perm_temp, None, None, None, headers, cookies=cookies)
    del response.headers["Content-Type"]
    response.headers["Location"] = uri
    return response
