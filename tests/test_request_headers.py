"""Request headers read by dispatch.headers: what pywsgi's email-based reader gives for
well-formed headers, a 400 for malformed ones, through a real server too."""
from __future__ import annotations

import io
import json
import socket

import pytest
from gevent.pywsgi import headers_factory
from hypothesis import given
from hypothesis import strategies as st

from dispatch import lift
from dispatch.headers import MAX_HEADERS, parse_headers
from dispatch.server import DispatchHandler
from servlets import response_jsexpr


def parse(data: bytes):
    return parse_headers(io.BufferedReader(io.BytesIO(data)))


def test_lookup_is_case_insensitive_and_gives_the_first_value():
    h = parse(b"Host: a\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Type: text/plain\r\n\r\nbody")
    assert h.status == ""
    assert h.get("HOST") == "a" and h.getheader("x-TWICE") == "1"
    assert h.get("missing", "d") == "d"
    assert h.typeheader == "text/plain"
    assert h.headers == ["Host: a\r\n", "X-Twice: 1\r\n", "x-twice: 2\r\n",
                         "Content-Type: text/plain\r\n"]


def test_reading_stops_after_the_empty_line():
    rfile = io.BufferedReader(io.BytesIO(b"A: 1\n\nB: 2\r\n\r\n"))
    assert parse_headers(rfile).items == [("A", "1")]
    assert rfile.read() == b"B: 2\r\n\r\n"


def test_values_lose_surrounding_whitespace_but_keep_colons():
    h = parse(b"Host: \t 127.0.0.1:8080 \t\r\nEmpty:\r\n\r\n")
    assert h.items == [("Host", "127.0.0.1:8080"), ("Empty", "")]


def test_deleting_removes_every_occurrence():
    h = parse(b"Content-Length: 3\r\ncontent-length: 4\r\nA: b\r\n\r\n")
    del h["CONTENT-LENGTH"]
    assert h.get("content-length") is None and h.items == [("A", "b")]
    with pytest.raises(KeyError):
        del h["content-length"]


@pytest.mark.parametrize("block", [
    b"A: 1\r\n folded\r\n\r\n",          # obs-fold
    b"\tA: 1\r\n\r\n",
    b"no colon here\r\n\r\n",
    b"A : 1\r\n\r\n",                   # whitespace before the colon
    b": no name\r\n\r\n",
    b"A\x00B: 1\r\n\r\n",
    b"A: 1\r2\r\n\r\n",                 # bare CR inside the value
    b"A: 1\x00\r\n\r\n",
])
def test_malformed_lines_are_refused(block):
    h = parse(block)
    assert h.status and h.items == []


def test_limits_on_count_and_line_length():
    many = b"".join(b"H%d: v\r\n" % i for i in range(MAX_HEADERS))
    assert parse(many + b"\r\n").status == "" and len(parse(many + b"\r\n")) == MAX_HEADERS
    assert "More than" in parse(many + b"One-More: v\r\n\r\n").status
    assert parse(b"A: " + b"x" * 70000 + b"\r\n\r\n").status == "Line too long"


def test_end_of_stream_ends_the_headers():
    assert parse(b"A: 1\r\n").items == [("A", "1")]


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True)
_values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xff,
                                         blacklist_characters="\x7f"), max_size=20)


@given(st.lists(st.tuples(_names, _values, st.sampled_from(["", " ", "  "])), max_size=12))
def test_well_formed_headers_read_as_pywsgis_reader_reads_them(headers):
    block = b"".join(f"{n}:{sp}{v}\r\n".encode("latin-1") for n, v, sp in headers) + b"\r\n"
    ours = parse(block)
    theirs = headers_factory(io.BufferedReader(io.BytesIO(block)))
    assert ours.status == theirs.status == ""
    for name, _, _ in headers:
        assert ours.get(name) == theirs.get(name)
    assert ours.headers == list(theirs.headers)
    assert ours.typeheader == theirs.typeheader


def _environ_of(served, request: bytes) -> tuple[bytes, dict]:
    def echo(req):
        return response_jsexpr({k: v for k, v in req.environ.items()
                                if isinstance(v, str) and k.isupper()})

    base = served(lift.make(echo))
    port = int(base.rsplit(":", 1)[1])
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        for _ in range(1000):  # the server closes: "Connection: close", or after a 400
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], (json.loads(body) if body.startswith(b"{") else {})


def test_the_server_builds_the_environ_from_these_headers(served):
    status, environ = _environ_of(served, b"GET /x?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n"
                                          b"x-a: 2\r\nContent-Type: text/plain\r\n"
                                          b"Bad_Name: dropped\r\nConnection: close\r\n\r\n")
    assert status == b"HTTP/1.1 200 OK"
    assert environ["HTTP_HOST"] == "h" and environ["HTTP_X_A"] == "1,2"
    assert environ["CONTENT_TYPE"] == "text/plain" and "HTTP_CONTENT_TYPE" not in environ
    assert not any("BAD" in k for k in environ)
    assert environ["PATH_INFO"] == "/x" and environ["QUERY_STRING"] == "q=1"


def test_the_server_answers_400_to_malformed_headers(served):
    status, _ = _environ_of(served, b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n")
    assert status == b"HTTP/1.1 400 Bad Request"


def test_the_handler_uses_this_reader():
    assert DispatchHandler.MessageClass(None, io.BufferedReader(io.BytesIO(b"\r\n"))).items == []
