"""Racket's ``tests/web-server/http/json.rkt``: ``response/jsexpr`` on the wire."""
from __future__ import annotations

import pytest
from werkzeug.http import http_date

from servlets import response_jsexpr

try:
    from .http_util import racket_expected, write_response
except ImportError:  # tests/racket is not a package
    from http_util import racket_expected, write_response

HEAD = b"Date: REDACTED GMT\r\nLast-Modified: REDACTED GMT\r\nServer: Racket\r\n"
JSON = b"Content-Type: application/json; charset=utf-8\r\n"


# (response/jsexpr '("booga"))
def test_list():
    assert write_response(response_jsexpr(["booga"])) == racket_expected(
        b"HTTP/1.1 200 OK\r\n" + HEAD + JSON + b"\r\n[\"booga\"]")


# Showing off all default headers and other values (200, "OK"): (hasheq 'jay "zee")
def test_defaults():
    assert write_response(response_jsexpr({"jay": "zee"})) == racket_expected(
        b"HTTP/1.1 200 OK\r\n" + HEAD + JSON + b"\r\n{\"jay\":\"zee\"}")


# We respect the json-null parameter: (parameterize ([json-null 'jibby-jab]) ...).
# Python's null is None; there is no json-null parameter to set.
def test_null():
    assert write_response(response_jsexpr(None)) == racket_expected(
        b"HTTP/1.1 200 OK\r\n" + HEAD + JSON + b"\r\nnull")


# (response/jsexpr "jazzy jazz" #:code 404)
def test_code():
    assert write_response(response_jsexpr("jazzy jazz", code=404)) == racket_expected(
        b"HTTP/1.1 404 Not Found\r\n" + HEAD + JSON + b"\r\n\"jazzy jazz\"")


# The message is normally inferred from the status code, but you can use whatever you
# want: (response/jsexpr #f #:message #"Strange request")
def test_message():
    assert write_response(response_jsexpr(False, message=b"Strange request")) == \
        racket_expected(b"HTTP/1.1 200 Strange request\r\n" + HEAD + JSON + b"\r\nfalse")


# (response/jsexpr (list "whoop" (hasheq 'there '("it" "is"))) #:seconds 0), unredacted
def test_seconds():
    lines = write_response(response_jsexpr(["whoop", {"there": ["it", "is"]}], seconds=0),
                           redact_it=False)
    lines = [b"Date: REDACTED GMT" if line.startswith(b"Date: ") else line for line in lines]
    assert lines == racket_expected(
        b"HTTP/1.1 200 OK\r\nDate: REDACTED GMT\r\nLast-Modified: " + http_date(0).encode()
        + b"\r\nServer: Racket\r\nContent-Type: application/json; charset=utf-8\r\n"
          b"Connection: close\r\n\r\n[\"whoop\",{\"there\":[\"it\",\"is\"]}]")


# The default MIME type ("application/json; charset=utf-8") can be overridden:
# (response/jsexpr "" #:mime-type #"application/xml")
def test_mime_type():
    assert write_response(response_jsexpr("", mime_type=b"application/xml")) == \
        racket_expected(b"HTTP/1.1 200 OK\r\n" + HEAD
                        + b"Content-Type: application/xml\r\n\r\n\"\"")


# Custom headers can be used: (response/jsexpr #t #:headers (list (header #"head" #"bang")))
def test_headers():
    assert write_response(response_jsexpr(True, headers=[(b"head", b"bang")])) == \
        racket_expected(b"HTTP/1.1 200 OK\r\n" + HEAD + JSON + b"head: bang\r\n\r\ntrue")


# response/jsexpr's contract is jsexpr?: what JSON cannot carry is refused at the call.
@pytest.mark.parametrize("bad", [{1, 2}, b"bytes", float("nan"), object()])
def test_not_a_jsexpr(bad):
    with pytest.raises((TypeError, ValueError), match="response_jsexpr"):
        response_jsexpr(bad)
