"""What the response constructors of :mod:`dispatch.http.response` share: their
argument checks and the assembly of a checked response.

Compiled with mypyc (every servlet page goes through it) with this file as its
pure-Python twin; the public constructors stay in ``response.py``, whose ``Response``
subclasses werkzeug's.  Parameters are untyped where a caller's argument arrives
unchecked: each check raises its own error, naming the constructor and the argument.
"""
from __future__ import annotations

import datetime
import math
import re
import time
from typing import Any, Iterable

from werkzeug.datastructures import Headers as _Headers
from werkzeug.http import HTTP_STATUS_CODES, http_date
from werkzeug.urls import iri_to_uri

from .cookies import Cookie, cookie_to_header

# The mime types are public (re-exported by response.py); the underscored helpers are
# this package's own, imported by name in response.py.
__all__ = ["APPLICATION_JSON_MIME_TYPE", "TEXT_HTML_MIME_TYPE"]

TEXT_HTML_MIME_TYPE = "text/html; charset=utf-8"
APPLICATION_JSON_MIME_TYPE = "application/json; charset=utf-8"

# Racket's reason phrases (RFC 7231) where werkzeug's differ; a code neither knows gets
# Racket's default message, "OK".
_REASONS = {**HTTP_STATUS_CODES, 413: "Payload Too Large", 414: "URI Too Long"}
_DEFAULT_REASON = "OK"
# RFC 9110 5.1: a field name is a token.
_TOKEN_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


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


def _make(cls: Any, body, code, message, seconds, mime_type, headers, who: str,
          cookies: Iterable[Cookie] = ()) -> Any:
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


def _response(cls: Any, status: str, code: int, pairs: list, body) -> Any:
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
