"""Response constructors.  Racket: ``web-server/http/response-structs``,
``web-server/http/xexpr``, ``web-server/http/json``, ``web-server/http/empty`` and
``web-server/http/redirect``.

Every constructor returns a :class:`Response`, a werkzeug Response and so a WSGI
application, which a dispatcher hands to ``conn.respond``.  ``message`` is the reason
phrase and ``seconds`` (a POSIX time) becomes ``Last-Modified``, as in Racket.

Arguments are checked at the call, so a mistake raises in the caller's frame rather than
as a 500 once the response is served: ``code`` is an int from 100 to 599; ``message``,
``mime_type``, header names and values are ``str`` or ``bytes`` (Racket takes bytes:
``b"text/plain"`` is sent as ``text/plain``, bytes going on the wire as they are) without
CR, LF or NUL; header names are HTTP tokens.

Racket's ``response`` struct accessors read any response back: :func:`response_code`,
:func:`response_message`, :func:`response_seconds`, :func:`response_mime`,
:func:`response_headers`, and :attr:`Response.output` for ``response-output`` (the
Python spelling ``response_output`` is ``response/output``'s, the constructor).
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_date
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response as _WerkzeugResponse

from ..http11.reasons import status_line
from .cookies import Cookie
from .request import Header
from .response_parts import (
    _NOW,
    APPLICATION_JSON_MIME_TYPE,
    TEXT_HTML_MIME_TYPE,
    _body_list,
    _headers,
    _make,
)
from .xexpr import Xexpr
from .xexpr_writer import write_xexpr

__all__ = [
    "Response", "response_full", "response_output", "response_xexpr", "response_jsexpr",
    "response_empty", "redirect_to", "redirection_status", "permanently", "temporarily",
    "temporarily_same_method", "see_other", "TEXT_HTML_MIME_TYPE",
    "APPLICATION_JSON_MIME_TYPE", "exception_response", "response_code", "response_message",
    "response_seconds", "response_mime", "response_headers",
]


Text = Union[str, bytes]
Headers = Union[Sequence[tuple[Text, Text]], Mapping[Text, Text], None]

class Response(_WerkzeugResponse):
    """A werkzeug Response; what every constructor here returns.

    A constructor's response knows its whole body and has framed it (``Content-Length``
    among its checked headers): answering it is one ``start_response`` with those
    headers, not werkzeug's general path (``get_wsgi_headers``, ``get_app_iter``,
    ``ClosingIterator``), which costs more than the rest of a small request's dispatch.
    A response changed since (a new body, another status, ``call_on_close``) takes
    werkzeug's path as any werkzeug response does.
    """

    default_mimetype = "text/html"
    #: (body, status code, the Content-Length to add, the number of headers) as the
    #: constructor framed them, while they still hold
    _framed: Optional[tuple] = None

    def __call__(self, environ, start_response):
        framed = self._framed
        if (framed is not None and framed[0] is self.response
                and framed[1] == self._status_code and not self._on_close
                and len(self.headers._list) == framed[3] and not self.direct_passthrough):
            start_response(self._status, self.headers._list + framed[2])
            return [] if environ["REQUEST_METHOD"] == "HEAD" else framed[0]
        return super().__call__(environ, start_response)

    # Racket's struct fields, read from what the response holds (nothing is stored twice).
    @property
    def code(self) -> int:
        """Racket: ``response-code``."""
        return self.status_code

    @property
    def message(self) -> str:
        """Racket: ``response-message``."""
        return response_message(self)

    @property
    def seconds(self) -> Optional[int]:
        """Racket: ``response-seconds``."""
        return response_seconds(self)

    @property
    def mime(self) -> Optional[str]:
        """Racket: ``response-mime``."""
        return response_mime(self)

    @property
    def output(self) -> Callable[[Any], None]:
        """Racket: ``response-output``: a procedure writing the body to a binary stream
        (``resp.output(out)``).  A body that is an iterator is used up by it, as by
        serving the response."""
        return _output_of(self)


def response_full(code: int, message: Optional[Text], seconds: Optional[float],
                  mime_type: Optional[Text], headers: Headers,
                  body: Iterable[bytes], *, cookies: Iterable[Cookie] = ()) -> Response:
    """A response with every part given.  Racket: ``response/full``.

    ``seconds=None`` sends no ``Last-Modified`` and ``mime_type=None`` no
    ``Content-Type``."""
    who = "response_full"
    if type(body) is list and len(body) == 1 and type(body[0]) is bytes:
        body = [body[0]]  # the common case; a copy, as the list may be reused
    elif isinstance(body, (list, tuple)):
        body = _body_list(body, who)
    elif isinstance(body, (str, bytes, bytearray)):
        raise TypeError(f"{who}: body must be a list of bytes, given {type(body).__name__} "
                        f"{body[:40]!r}; wrap it: [{body[:20]!r}]")
    return _make(Response, body, code, message, seconds, mime_type, headers, who,
                 cookies=cookies)


class _WriterOutput:
    """The binary port a ``response_output`` writer writes to."""

    __slots__ = ("_write",)

    def __init__(self, write: Callable[[bytes], Any]) -> None:
        self._write = write

    def write(self, data: Union[bytes, str]) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if data:  # an empty write would end a chunked body on some servers
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
        # The headers leave now, before the writer runs (Racket flushes them first): a
        # long-polling writer may wait a long time before its first write, and the client
        # must see the response begin.  PEP 3333: the first call of write() sends the
        # headers, also with an empty string.
        write(b"")
        if environ.get("REQUEST_METHOD") != "HEAD":
            self.writer(_WriterOutput(write))
        return []


def response_output(writer: Callable[[_WriterOutput], Any], code: int = 200,
                    message: Optional[Text] = None, seconds: Optional[float] = None,
                    mime_type: Optional[Text] = TEXT_HTML_MIME_TYPE,
                    headers: Headers = None, cookies: Iterable[Cookie] = ()) -> Response:
    """A response streamed by ``writer(out)``, which writes bytes or text to ``out``.
    Racket: ``response/output``.  The headers are sent before ``writer`` runs;
    ``seconds`` defaults to now."""
    if not callable(writer):
        raise TypeError(f"response_output: writer must be a procedure taking the output, "
                        f"given {type(writer).__name__} {writer!r}")
    response = _make(OutputResponse, None, code, message, _NOW if seconds is None else seconds,
                     mime_type, headers, "response_output", cookies=cookies)
    response.writer = writer  # type: ignore[attr-defined]  # cls=OutputResponse
    return response


def response_xexpr(xexpr: Xexpr, code: int = 200, message: Optional[Text] = None,
                   seconds: Optional[float] = None,
                   mime_type: Optional[Text] = TEXT_HTML_MIME_TYPE,
                   headers: Headers = None, preamble: Union[bytes, str] = b"",
                   cookies: Iterable[Cookie] = ()) -> Response:
    """An HTML page rendered from an x-expression.  Racket: ``response/xexpr``.
    ``seconds`` defaults to now, as Racket's."""
    if isinstance(preamble, str):
        preamble = preamble.encode("utf-8")
    elif not isinstance(preamble, (bytes, bytearray)):
        raise TypeError(f"response_xexpr: preamble must be bytes or str, given {preamble!r}")
    body = write_xexpr(xexpr).encode("utf-8")
    if preamble:
        body = bytes(preamble) + body
    return _make(Response, body, code, message, _NOW if seconds is None else seconds, mime_type,
                 headers, "response_xexpr", cookies=cookies)


def response_jsexpr(jsexpr: Any, code: int = 200, message: Optional[Text] = None,
                    seconds: Optional[float] = None,
                    mime_type: Optional[Text] = APPLICATION_JSON_MIME_TYPE,
                    headers: Headers = None, cookies: Iterable[Cookie] = ()) -> Response:
    """A JSON document.  Racket: ``response/jsexpr``.  ``seconds`` defaults to now.

    What JSON cannot carry (a set, bytes, NaN, a dict with non-str keys) raises at the
    call, as Racket's ``jsexpr?`` contract."""
    try:
        text = json.dumps(jsexpr, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"response_jsexpr: not a JSON value: {exc}") from None
    return _make(Response, text.encode("utf-8"), code, message,
                 _NOW if seconds is None else seconds, mime_type, headers, "response_jsexpr",
                 cookies=cookies)


def response_empty(code: int = 204, message: Optional[Text] = None,
                   seconds: Optional[float] = None, headers: Headers = None,
                   cookies: Iterable[Cookie] = ()) -> Response:
    """A response with no body.  Racket: ``response/empty``; ``seconds`` defaults to now."""
    return _make(Response, [], code, message, _NOW if seconds is None else seconds, None, headers,
                 "response_empty", cookies=cookies)


#: Racket's redirection statuses: ``permanently`` (301), ``temporarily`` (302),
#: ``temporarily/same-method`` (307) and ``see-other`` (303).
permanently, temporarily, temporarily_same_method, see_other = 301, 302, 307, 303
_REDIRECTIONS = frozenset((permanently, temporarily, temporarily_same_method, see_other, 308))


def redirection_status(x: object) -> bool:
    """Whether ``x`` is a status ``redirect_to`` takes.  Racket: ``redirection-status?``."""
    return type(x) is int and x in _REDIRECTIONS


def redirect_to(uri: str, perm_temp: int = temporarily, headers: Headers = None,
                cookies: Iterable[Cookie] = ()) -> Response:
    """Redirect to ``uri``.  Racket: ``redirect-to`` (``temporarily``, 302, by default).

    ``uri`` must be a non-empty string; ``perm_temp`` one of :data:`permanently`,
    :data:`temporarily`, :data:`temporarily_same_method`, :data:`see_other` (or 308)."""
    who = "redirect_to"
    if isinstance(uri, (bytes, bytearray)):
        uri = bytes(uri).decode("utf-8")
    if not isinstance(uri, str):
        raise TypeError(f"{who}: uri must be a non-empty str, given {uri!r}")
    if not uri:
        raise ValueError(f"{who}: uri must be a non-empty str, given ''")
    if not redirection_status(perm_temp):
        raise ValueError(f"{who}: perm_temp must be permanently (301), temporarily (302), "
                         f"temporarily_same_method (307), see_other (303) or 308, "
                         f"given {perm_temp!r}")
    # Location first, then the given headers, as Racket lists them.
    pairs = [("Location", iri_to_uri(uri))] + _headers(headers, who)
    return _make(Response, [], perm_temp, None, _NOW, None, pairs, who, cookies=cookies)


def exception_response(exc: HTTPException, environ: Optional[dict] = None) -> _WerkzeugResponse:
    """The response of a werkzeug HTTP exception (``abort(403)``, a body too large), with
    RFC 9110's reason phrase: werkzeug's own status line is upper-cased
    (``400 BAD REQUEST``)."""
    response = exc.get_response(environ)
    # (werkzeug 3.0, the declared floor, annotates it as the sans-I/O Response; a cast
    # would be redundant to newer werkzeug's type hints, this holds for both)
    if not isinstance(response, _WerkzeugResponse):
        raise TypeError(f"{type(exc).__name__}.get_response gave {response!r}")
    if exc.code is not None:
        response.status = status_line(exc.code)
    return response


# --- Racket's response struct accessors ------------------------------------------------

def _check(r: Any, who: str) -> _WerkzeugResponse:
    if not isinstance(r, _WerkzeugResponse):
        raise TypeError(f"{who}: expected a response, given {type(r).__name__} {r!r}")
    return r


def response_code(r: _WerkzeugResponse) -> int:
    """The status code.  Racket: ``response-code``."""
    return _check(r, "response_code").status_code


def response_message(r: _WerkzeugResponse) -> str:
    """The reason phrase (``"OK"``, or the ``message`` given to the constructor).
    Racket: ``response-message``."""
    return _check(r, "response_message").status.partition(" ")[2]


def response_seconds(r: _WerkzeugResponse) -> Optional[int]:
    """The POSIX time of ``Last-Modified`` (what ``seconds`` became), or ``None`` when
    there is none.  Racket: ``response-seconds``."""
    value = _check(r, "response_seconds").headers.get("Last-Modified")
    when = parse_date(value) if value else None
    return None if when is None else int(when.timestamp())


def response_mime(r: _WerkzeugResponse) -> Optional[str]:
    """The ``Content-Type`` (what ``mime_type`` became), or ``None``.  Racket:
    ``response-mime``."""
    return _check(r, "response_mime").headers.get("Content-Type")


def response_headers(r: _WerkzeugResponse) -> list:
    """The headers as a list of :class:`~dispatch.http.request.Header`, in order.
    Racket: ``response-headers``; Racket keeps ``mime`` and ``seconds`` apart, here
    ``Content-Type`` and ``Last-Modified`` are among the headers, where they are sent."""
    return [Header(name, value) for name, value in _check(r, "response_headers").headers.items()]


def _output_of(r: _WerkzeugResponse) -> Callable[[Any], None]:
    writer = getattr(r, "writer", None)
    if isinstance(r, OutputResponse) and writer is not None:
        return lambda out: writer(_WriterOutput(out.write))

    def output(out) -> None:
        for chunk in r.iter_encoded():
            out.write(chunk)

    return output
