"""Racket's ``web-server/http/request-structs`` and ``response-structs`` names: the
``headers-assq`` and ``bindings-assq`` (File/port) suites of
``tests/web-server/private/request-test.rkt``, the ``module+ test`` of
``response-structs.rkt`` and the ``redirect-to`` suite of
``tests/web-server/servlet/helpers-test.rkt`` read through the struct accessors, and
``e2e/file-upload/server.rkt``'s ``binding:file/port-in`` over a real socket."""
from __future__ import annotations

import hashlib
import io
import time

import pytest
import requests
from werkzeug.test import EnvironBuilder

from dispatch.http.response import Response
from dispatch.safety_limits import make_safety_limits
from servlets import (
    BindingFile,
    Header,
    Request,
    binding_file_port_in,
    bindings_assq,
    bindings_assq_all,
    dispatch_servlet,
    header_field,
    header_value,
    headers_assq,
    headers_assq_star,
    is_binding_file_port,
    is_header,
    make_binding_file_port,
    make_header,
    permanently,
    redirect_to,
    request_bindings_raw,
    request_bindings_raw_promise,
    response_code,
    response_full,
    response_headers,
    response_message,
    response_mime,
    response_output,
    response_seconds,
    response_xexpr,
)

# --- header ----------------------------------------------------------------------------


def test_headers_assq_simple():
    assert header_value(headers_assq(b"key", [make_header(b"key", b"val")])) == "val"


def test_headers_assq_not_present():
    assert headers_assq(b"key", []) is None


def test_headers_assq_star_case_not_present():
    assert headers_assq_star(b"Key", []) is None


def test_headers_assq_star_case():
    assert header_value(headers_assq_star(b"Key", [make_header(b"key", b"val")])) == "val"


def test_headers_assq_star_case_not_first():
    heads = [make_header(b"key1", b"val"), make_header(b"key", b"val")]
    assert header_value(headers_assq_star(b"Key", heads)) == "val"


def test_headers_assq_is_case_sensitive_and_takes_pairs_and_request_headers():
    assert headers_assq("Key", [make_header("key", "val")]) is None
    assert headers_assq("key", [("key", "first"), ("key", "second")]) == Header("key", "first")
    req = Request(EnvironBuilder(headers=[("X-Thing", "a b")]).get_environ())
    found = headers_assq_star(b"x-thing", req.headers)
    assert is_header(found) and (header_field(found), header_value(found)) == ("X-Thing", "a b")


def test_header_struct():
    h = make_header(b"Location", "http://racket-lang.org/download")
    assert (h.field, h.value) == ("Location", "http://racket-lang.org/download")
    assert is_header(h) and not is_header(("Location", "x"))
    # bytes are read as Latin-1: what was on the wire comes back unchanged
    assert make_header(b"X", "é".encode()).value.encode("latin-1") == "é".encode()
    with pytest.raises(ValueError, match="pass bytes"):
        make_header("X", "snow ☃")
    with pytest.raises(TypeError, match="field"):
        make_header(3, "x")
    with pytest.raises(TypeError, match="expected a Header"):
        header_value(("a", "b"))
    with pytest.raises(TypeError, match="heads"):
        headers_assq("a", "a: b")
    with pytest.raises(TypeError, match="heads must hold headers"):
        headers_assq("a", ["a: b"])


def test_a_header_is_a_response_header():
    """Racket's response/full example: a header struct among the headers."""
    response = response_full(301, b"Moved Permanently", None, None,
                             [make_header(b"Location", b"http://racket-lang.org/download")],
                             [b"<html><body><p>", b"Please go to ... instead.",
                              b"</p></body></html>"])
    assert response.headers["Location"] == "http://racket-lang.org/download"
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        response_full(200, None, None, None, [make_header("X", "a\r\nInjected: 1")], [b""])


# --- bindings ----------------------------------------------------------------------------

def test_bindings_assq_simple_file_port():
    """request-test.rkt's "Simple (File/port)"."""
    binds = [make_binding_file_port("key", "name", [], io.BytesIO(b"val"))]
    assert bindings_assq("key", binds).content == b"val"


def test_binding_file_port_content_reads_what_is_left_and_closes():
    port = io.BytesIO(b"0123456789")
    b = make_binding_file_port("f", "digits.txt", [], port)
    assert is_binding_file_port(b) and binding_file_port_in(b) is port
    assert port.read(4) == b"0123"  # a byte is read from the port or in content, not both
    assert b.content == b"456789" and b.content == b"456789"
    assert port.closed


def test_content_of_a_closed_port_raises():
    port = io.BytesIO(b"x")
    b = make_binding_file_port("f", "x", [], port)
    binding_file_port_in(b).close()
    with pytest.raises(ValueError):
        _ = b.content


def test_bytes_bindings_are_not_port_bindings():
    b = BindingFile("f", "x", [], b"bytes")
    assert not is_binding_file_port(b) and not is_binding_file_port("f")
    with pytest.raises(TypeError, match="binding:file/port"):
        binding_file_port_in(b)
    with pytest.raises(TypeError, match="binary stream"):
        make_binding_file_port("f", "x", [], b"bytes")


def post(fields: dict) -> Request:
    return Request(EnvironBuilder(method="POST", path="/", data=fields).get_environ())


def test_request_bindings_raw_promise_reads_the_body_when_forced():
    req = post({"a": "1", "file": (io.BytesIO(b"content"), "f.txt")})
    promise = request_bindings_raw_promise(req)
    assert "form" not in req.__dict__  # not parsed yet
    binds = promise()
    assert [b.id for b in binds] == ["a", "file"] and promise() == binds
    assert binds == request_bindings_raw(req)
    [upload] = bindings_assq_all("file", binds)
    assert is_binding_file_port(upload) and upload.content == b"content"
    with pytest.raises(TypeError, match="expected a request"):
        request_bindings_raw_promise("not a request")


def file_upload(req):
    """e2e/file-upload/server.rkt: the SHA-1 of each upload, read from its port."""
    files = bindings_assq_all("file", request_bindings_raw(req))
    hashes = []
    for f in files:
        port, sha = binding_file_port_in(f), hashlib.sha1()
        while chunk := port.read(100):
            sha.update(chunk)
        hashes.append(sha.hexdigest())
    return response_output(lambda out: out.write("".join(h + "\n" for h in hashes)))


def test_file_upload_hashes_read_from_the_ports(served):
    # Racket's limits: files past 250 bytes wait on disk
    base = served(dispatch_servlet(file_upload), safety_limits=make_safety_limits(
        max_form_data_files=2, max_form_data_file_length=500,
        form_data_file_memory_threshold=250))
    uploads = [b"a" * 200, b"b" * 480]  # one in memory, one on disk
    response = requests.post(base + "/", files=[("file", ("a", uploads[0])),
                                                ("file", ("b", uploads[1]))], timeout=5)
    assert response.text.splitlines() == [hashlib.sha1(u).hexdigest() for u in uploads]


# --- response struct accessors ------------------------------------------------------------

def output(op):
    return None


# response-structs.rkt's module+ test
@pytest.mark.parametrize("kwargs, code, message", [
    ({"code": 123, "message": b"bites!"}, 123, "bites!"),
    ({"code": 200, "message": None}, 200, "OK"),
    ({"code": 200}, 200, "OK"),
    ({"message": b"bite this"}, 200, "bite this"),
    ({}, 200, "OK"),
    ({"code": 123}, 123, "OK"),
])
def test_response_output_code_and_message(kwargs, code, message):
    resp = response_output(output, **kwargs)
    assert (response_code(resp), response_message(resp)) == (code, message)
    assert (resp.code, resp.message) == (code, message)


# helpers-test.rkt's redirect-to suite, through response-code, -message and -headers
def test_redirect_to_through_the_accessors():
    temp = redirect_to("http://test.com/foo")
    assert (response_code(temp), response_message(temp)) == (302, "Found")
    perm = redirect_to("http://test.com/foo", permanently)
    assert (response_code(perm), response_message(perm)) == (301, "Moved Permanently")

    def dehead(hs):  # without the date, which Racket keeps in response-seconds
        return [[header_field(h), header_value(h)] for h in hs
                if header_field(h) != "Last-Modified"]

    assert dehead(response_headers(temp)) == [["Location", "http://test.com/foo"]]
    with_header = redirect_to("http://test.com/foo", headers=[make_header(b"Header", b"Value")])
    assert dehead(response_headers(with_header)) == [["Location", "http://test.com/foo"],
                                                     ["Header", "Value"]]


def test_seconds_mime_headers_and_output():
    resp = response_full(200, "Okay", 1_700_000_000, b"text/plain", [("X-A", "1")],
                         [b"Hello, ", b"Web!"])
    assert response_seconds(resp) == resp.seconds == 1_700_000_000
    assert response_mime(resp) == resp.mime == "text/plain"
    assert response_headers(resp)[0] == Header("X-A", "1")
    assert all(is_header(h) for h in response_headers(resp))
    out = io.BytesIO()
    resp.output(out)
    assert out.getvalue() == b"Hello, Web!"
    bare = response_full(204, None, None, None, [], [])
    assert (response_seconds(bare), response_mime(bare)) == (None, None)
    assert abs(response_xexpr("x").seconds - time.time()) < 5  # seconds defaults to now


def test_output_of_response_output_is_its_writer():
    """port.rkt: a response whose output writes the page (str or bytes)."""
    resp = response_output(lambda op: op.write("<html><body><p>Hello, Web!</p></body></html>"),
                           message="Okay", mime_type="text/html")
    out = io.BytesIO()
    resp.output(out)
    assert out.getvalue() == b"<html><body><p>Hello, Web!</p></body></html>"
    assert (resp.code, resp.message, resp.mime) == (200, "Okay", "text/html")


def test_accessors_refuse_what_is_not_a_response():
    with pytest.raises(TypeError, match="response_message: expected a response"):
        response_message("200 OK")
    assert isinstance(redirect_to("/x"), Response)
