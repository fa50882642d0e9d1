"""Racket's ``tests/web-server/servlet/bindings-test.rkt``: ``request-bindings``,
``request-headers``, ``exists-binding?``, ``extract-bindings`` and
``extract-binding/single``.

Racket builds requests with ``make-request`` and a list of bindings; here the same
bindings come in a real request's query string (fields) or multipart body (files).
"""
from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder

from servlets import (
    Request,
    exists_binding,
    extract_binding_single,
    extract_bindings,
    request_bindings,
)
from servlets.bindings import request_headers

BS = [("foo", 3), ("foos", 1), ("foos", 2)]


def get(query: str) -> Request:
    return Request(EnvironBuilder(base_url="http://test.com", path="/foo",
                                  query_string=query).get_environ())


def post_file(name: str, filename: str, content: bytes) -> Request:
    return Request(EnvironBuilder(base_url="http://test.com", path="/foo", method="POST",
                                  data={name: (io.BytesIO(content), filename)}).get_environ())


# request-bindings "Simple"
def test_request_bindings_simple():
    assert request_bindings(get("key=val")) == [("key", "val")]


# request-bindings "Case": names are lower-cased
def test_request_bindings_case():
    assert request_bindings(get("KEY=val")) == [("key", "val")]


# request-bindings "Multi"
def test_request_bindings_multi():
    assert request_bindings(get("key=val&key2=val")) == [("key", "val"), ("key2", "val")]


# request-bindings "File" and "File/port": a file's binding is its content
@pytest.mark.xfail(strict=True, reason="request_bindings gives a file as a BindingFile "
                   "(its .content is Racket's bytes), not the bytes themselves")
def test_request_bindings_file():
    assert request_bindings(post_file("key", "file", b"val")) == [("key", b"val")]


def test_request_bindings_file_content():
    [(name, binding)] = request_bindings(post_file("key", "file", b"val"))
    assert (name, binding.filename, binding.content) == ("key", "file", b"val")


def headers_only(pairs: list) -> Request:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/foo", "QUERY_STRING": "",
               "SERVER_NAME": "test.com", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO()}
    for name, value in pairs:
        environ["HTTP_" + name.upper()] = value
    return Request(environ)


# request-headers "Simple" and "Case"
@pytest.mark.parametrize("name", ["key", "KEY"])
def test_request_headers(name):
    assert request_headers(headers_only([(name, "val")])) == [("key", "val")]


# exists-binding? - true / - false
def test_exists_binding():
    assert exists_binding("foo", BS)
    assert not exists_binding("bar", BS)


# extract-bindings
def test_extract_bindings():
    assert extract_bindings("foos", BS) == [1, 2]


# extract-binding/single - success
def test_extract_binding_single():
    assert extract_binding_single("foo", BS) == 3


# extract-binding/single - failure ("not found") and - multiple ("multiple times")
@pytest.mark.xfail(strict=True, reason="the error says the binding 'is missing' or "
                   "'occurs 2 times' (a BindingError, a 400 uncaught), not Racket's words")
@pytest.mark.parametrize("name, words", [("bar", "not found"), ("foos", "multiple times")])
def test_extract_binding_single_failures_racket_words(name, words):
    with pytest.raises(Exception, match=words):
        extract_binding_single(name, BS)


@pytest.mark.parametrize("name, words", [("bar", "missing"), ("foos", "2 times")])
def test_extract_binding_single_failures(name, words):
    with pytest.raises(LookupError, match=words):
        extract_binding_single(name, BS)
