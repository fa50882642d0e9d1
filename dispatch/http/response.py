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

import datetime
import json
import math
import re
import time
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from werkzeug.datastructures import Headers as _Headers
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES, http_date, parse_date
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response as _WerkzeugResponse

from ..http11.reasons import status_line
from .cookies import Cookie, cookie_to_header
from .request import Header
from .xexpr import Xexpr
from .xexpr_writer import write_xexpr

__all__ = [
    "Response", "response_full", "response_output", "response_xexpr", "response_jsexpr",
    "response_empty", "redirect_to", "redirection_status", "permanently", "temporarily",
    "temporarily_same_method", "see_other", "TEXT_HTML_MIME_TYPE",
    "APPLICATION_JSON_MIME_TYPE", "exception_response", "response_code", "response_message",
    "response_seconds", "response_mime", "response_headers",
]

TEXT_HTML_MIME_TYPE = "text/html; charset=utf-8"
APPLICATION_JSON_MIME_TYPE = "application/json; charset=utf-8"

Text = Union[str, bytes]
Headers = Union[Sequence[tuple[Text, Text]], Mapping[Text, Text], None]

# Racket's reason phrases (RFC 7231) where werkzeug's differ; a code neither knows gets
# Racket's default message, "OK".
_REASONS = {**HTTP_STATUS_CODES, 413: "Payload Too Large", 414: "URI Too Long"}
_DEFAULT_REASON = "OK"
# RFC 9110 5.1: a field name is a token.
_TOKEN_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


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


# --- argument checks: each names the constructor and the argument at fault -------------

_UNSENDABLE = re.compile(r"[\r\n\x00]|[^\x00-\xff]")  # CR, LF, NUL or not Latin-1


# str values already checked (mime types, reason phrases): most programs use a handful.
_checked_text: dict = {}


def _text(value, who: str, what: str) -> str:
    """``value`` (str or bytes) as the str WSGI sends: bytes go on the wire unchanged."""
    if type(value) is str:
        if value in _checked_text:
            return value
        if _UNSENDABLE.search(value) is None:
            if len(_checked_text) < 256:
                _checked_text[value] = True
            return value  # the common case, checked in one pass
    if isinstance(value, str):
        text = str(value)
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"{who}: {what} {value!r} has characters HTTP cannot carry in "
                             f"a header; pass bytes (UTF-8 encoded) instead") from None
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("latin-1")
    else:
        raise TypeError(f"{who}: {what} must be str or bytes, given "
                        f"{type(value).__name__} {value!r}")
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"{who}: {what} {value!r} contains CR, LF or NUL")
    return text


def _code(code, who: str) -> int:
    if type(code) is not int:  # bool is an int subclass: True is not a status
        raise TypeError(f"{who}: code must be an int from 100 to 599, given "
                        f"{type(code).__name__} {code!r}")
    if not 100 <= code <= 599:
        raise ValueError(f"{who}: code must be from 100 to 599, given {code}")
    return code


# (code, message) -> status line, for the codes and str messages a program uses.
_statuses: dict = {}


def _status(code, message, who: str) -> str:
    if type(code) is int and (message is None or type(message) is str):
        status = _statuses.get((code, message))
        if status is not None:
            return status
    code = _code(code, who)
    if message is None:
        status = f"{code} {_REASONS.get(code, _DEFAULT_REASON)}"
    else:
        status = f"{code} {_text(message, who, 'message')}"
    if type(message) is not bytes and len(_statuses) < 256:
        _statuses[(code, message)] = status
    return status


def _headers(headers, who: str) -> list:
    if headers is None:
        return []
    if isinstance(headers, (str, bytes)):
        raise TypeError(f"{who}: headers must be (name, value) pairs or a dict, "
                        f"given {headers!r}")
    items = headers.items() if hasattr(headers, "items") else headers
    checked = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"{who}: each header must be a (name, value) pair, given {item!r}")
        name = item[0]
        if type(name) is not str or _TOKEN_NAME.fullmatch(name) is None:
            name = _text(name, who, "header name")
            if _TOKEN_NAME.fullmatch(name) is None:
                raise ValueError(f"{who}: header name {item[0]!r} is not an HTTP token")
        checked.append((name, _text(item[1], who, f"value of header {name!r}")))
    return checked


def _seconds(seconds, who: str):
    if seconds is None or isinstance(seconds, (datetime.datetime, datetime.date)):
        return seconds
    if type(seconds) is bool or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds):
        raise TypeError(f"{who}: seconds must be a POSIX time (int or float) or a datetime, "
                        f"given {seconds!r}")
    return seconds


_now_cache: list = [-1, ""]  # [second, its formatted date]


def _now_http_date() -> str:
    """``Last-Modified`` for "now", formatted once a second."""
    now = int(time.time())
    if _now_cache[0] != now:
        _now_cache[:] = [now, http_date(now)]
    return _now_cache[1]


_NOW = object()  # seconds=None in the constructors that default to now, as Racket's


def _cookies(cookies, who: str) -> list:
    if isinstance(cookies, (str, bytes, Cookie)):
        raise TypeError(f"{who}: cookies must be a list of cookies (make_cookie(...)), "
                        f"given {cookies!r}")
    checked = []
    for cookie in cookies:
        if not isinstance(cookie, Cookie):
            raise TypeError(f"{who}: cookies must be made by make_cookie, given "
                            f"{type(cookie).__name__} {cookie!r}")
        checked.append(cookie_to_header(cookie))
    return checked


def _make(body, code, message, seconds, mime_type, headers, who: str,
          cls=Response, cookies: Iterable[Cookie] = ()) -> Response:
    """A response of ``cls`` from parts checked here; ``body`` is bytes, a list of bytes
    (both framed by length), ``None`` (no body yet) or an iterable streamed as it comes."""
    status = _status(code, message, who)
    pairs = _headers(headers, who) if headers else []
    if cookies:
        # Racket's #:cookies: one Set-Cookie header each, after the headers
        pairs += _cookies(cookies, who)
    if seconds is _NOW:
        pairs.append(("Last-Modified", _now_http_date()))
    elif seconds is not None and _seconds(seconds, who) is not None:
        pairs.append(("Last-Modified", http_date(seconds)))
    if mime_type is not None:
        if mime_type is not TEXT_HTML_MIME_TYPE and mime_type is not APPLICATION_JSON_MIME_TYPE:
            mime_type = _text(mime_type, who, "mime_type")
        # As Racket, a Content-Type among the headers wins over mime_type.
        for name, _ in pairs:
            if len(name) == 12 and name.lower() == "content-type":
                break
        else:
            pairs.append(("Content-Type", mime_type))
    return _response(cls, status, code, pairs, body)


def _response(cls, status: str, code: int, pairs: list, body) -> Response:
    """A werkzeug Response built from checked parts.  werkzeug's own constructor
    re-validates the headers, parses the status back and guesses a charset: most of what
    a small page costs, for arguments already checked above."""
    response = cls.__new__(cls)
    headers = response.headers = _Headers.__new__(_Headers)
    headers._list = pairs  # pairs of str, checked by _headers
    response._status = status
    response._status_code = code
    response.direct_passthrough = False
    response._on_close = []
    if body is None:
        response.response = []
        return response
    has_body = code >= 200 and code != 204 and code != 304
    # werkzeug's general path edits some headers (by status, Location as a URI): where
    # it would, the response takes it.
    plain = code != 304 and _answers_as_given(pairs)
    length: list = []
    if type(body) is bytes:
        # A rendered page (response_xexpr, response_jsexpr): its length is one of its
        # headers, as in Racket's.
        body = [body]
        if has_body:
            pairs.append(("Content-Length", str(len(body[0]))))
    elif type(body) is not list:
        response.response = body  # streamed: framed by the server as it comes
        return response
    elif has_body:
        # Racket's response structs list no Content-Length for these (response_full,
        # response_empty, redirect_to): it is added as the response is answered.
        length = [("Content-Length",
                   str(len(body[0]) if len(body) == 1 else sum(map(len, body))))]
    response.response = body
    if plain:
        response._framed = (body, code, length, len(pairs))
    return response


def _answers_as_given(pairs: list) -> bool:
    """Whether werkzeug's general path would send ``pairs`` unchanged, adding at most a
    Content-Length: no Content-Length of the application's own (kept or removed by
    status there), no Location or Content-Location that it would rewrite as a URI."""
    for name, value in pairs:
        size = len(name)
        if size == 14 or size == 8 or size == 16:
            lower = name.lower()
            if lower == "content-length":
                return False
            if (lower == "location" or lower == "content-location") \
                    and iri_to_uri(value) != value:
                return False
    return True


def _body_list(body, who: str) -> list:
    """``response_full``'s body as a list of bytes (str chunks as UTF-8), joined into
    one piece where it is small, so that it leaves in one send with the head."""
    chunks = []
    for chunk in body:
        if type(chunk) is not bytes:
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            elif isinstance(chunk, (bytes, bytearray, memoryview)):
                chunk = bytes(chunk)
            else:
                raise TypeError(f"{who}: body must hold bytes, given "
                                f"{type(chunk).__name__} {chunk!r}")
        chunks.append(chunk)
    if len(chunks) > 1 and sum(map(len, chunks)) <= _JOIN_LIMIT:
        return [b"".join(chunks)]
    return chunks


#: small enough to join a list body's pieces into one (the engine's one-send limit)
_JOIN_LIMIT = 64 * 1024


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
    return _make(body, code, message, seconds, mime_type, headers, who, cookies=cookies)


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
    response = _make(None, code, message, _NOW if seconds is None else seconds, mime_type,
                     headers, "response_output", cls=OutputResponse, cookies=cookies)
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
    return _make(body, code, message, _NOW if seconds is None else seconds, mime_type,
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
    return _make(text.encode("utf-8"), code, message, _NOW if seconds is None else seconds,
                 mime_type, headers, "response_jsexpr", cookies=cookies)


def response_empty(code: int = 204, message: Optional[Text] = None,
                   seconds: Optional[float] = None, headers: Headers = None,
                   cookies: Iterable[Cookie] = ()) -> Response:
    """A response with no body.  Racket: ``response/empty``; ``seconds`` defaults to now."""
    return _make([], code, message, _NOW if seconds is None else seconds, None, headers,
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
    return _make([], perm_temp, None, _NOW, None, pairs, who, cookies=cookies)


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
