"""h11's test cases (h11/tests/test_io.py, test_connection.py, test_headers.py,
test_against_stdlib_http.py), translated into what a server must do with the request.

Each case id starts with the h11 file and test it comes from.  Where h11 is lenient and
llhttp strict (bare LF line endings, obsolete line folding, a control byte in a cookie,
whitespace after a chunk size), RFC 9112 allows both, and so do the cases: served with
the value h11 reads, or 400 and a close.
"""
from __future__ import annotations

import http.client

import pytest

from dispatch.safety_limits import make_safety_limits
from tests.http.rawhttp import Case, Conn, Rejected, Served, case_params, run_case

R400 = Rejected((400,))
H = b"Host: foo\r\n"


def value_is(name: str, value: bytes):
    def check(seen, replies):
        got = seen[0].header(name)
        assert got is not None and got.encode("latin-1") == value, got

    return check


def unfolded(seen, replies):
    value = seen[0].header("Some").encode("latin-1")
    assert b"\r" not in value and b"\n" not in value, value
    assert value.split() == [b"multi-line", b"header", b"nonsense", b"I", b"guess"], value


def post_chunked(body: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + body


def post_cl(*values: bytes, body: bytes = b"") -> bytes:
    fields = b"".join(b"Content-Length: " + v + b"\r\n" for v in values)
    return b"POST / HTTP/1.1\r\n" + H + fields + b"\r\n" + body


IO = [
    Case("test_io-readers_simple", b"GET /a HTTP/1.1\r\nHost: foo\r\nConnection: close\r\n\r\n",
         serve=Served(1, paths=["/a"], close=True), source="h11 test_io.py test_readers_simple"),
    Case("test_io-readers_unusual-head-http10-header",
         b"HEAD /foo HTTP/1.0\r\nSome: header\r\n\r\n",
         serve=Served(1, close=True, check=value_is("Some", b"header")), head=True,
         source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-head-http10", b"HEAD /foo HTTP/1.0\r\n\r\n",
         serve=Served(1, close=True), head=True, source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-value-inner-spaces",
         b"GET / HTTP/1.1\r\n" + H + b"Foo: a a a a a \r\n\r\n",
         serve=Served(1, check=value_is("Foo", b"a a a a a")),
         source="h11 test_io.py test_readers_unusual (trailing OWS dropped)"),
    Case("test_io-readers_unusual-empty-value", b"GET / HTTP/1.1\r\n" + H + b"Foo:\r\n\r\n",
         serve=Served(1, check=value_is("Foo", b"")), source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-whitespace-value",
         b"GET / HTTP/1.1\r\n" + H + b"Foo: \t \t \r\n\r\n",
         serve=Served(1, check=value_is("Foo", b"")), source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-bare-lf-last-line",
         b"GET / HTTP/1.1\r\n" + H + b"SomeHeader: val\n\r\n",
         serve=Served(1, check=value_is("SomeHeader", b"val")), reject=R400,
         source="h11 test_io.py test_readers_unusual (RFC 9112 2.2: MAY accept LF)"),
    Case("test_io-readers_unusual-bare-lf-everywhere",
         b"GET / HTTP/1.1\nHost: foo\nSomeHeader1: val1\nSomeHeader2: val2\n\n",
         serve=Served(1, check=value_is("SomeHeader2", b"val2")), reject=R400,
         source="h11 test_io.py test_readers_unusual (RFC 9112 2.2: MAY accept LF)"),
    Case("test_io-readers_unusual-mixed-line-endings",
         b"GET / HTTP/1.1\r\n" + H + b"SomeHeader1: val1\nSomeHeader2: val2\n\r\n",
         serve=Served(1, check=value_is("SomeHeader2", b"val2")), reject=R400,
         source="h11 test_io.py test_readers_unusual (RFC 9112 2.2: MAY accept LF)"),
    Case("test_io-readers_unusual-obs-fold",
         b"HEAD /foo HTTP/1.1\r\nHost: example.com\r\nSome: multi-line\r\n header\r\n"
         b"\tnonsense\r\n    \t   \t\tI guess\r\nConnection: close\r\n"
         b"More-nonsense: in the\r\n    last header  \r\n\r\n",
         serve=Served(1, close=True, check=unfolded), reject=R400, head=True,
         source="h11 test_io.py test_readers_unusual (RFC 9112 5.2: 400 or unfold)"),
    Case("test_io-readers_unusual-folded-first-line",
         b"HEAD /foo HTTP/1.1\r\n  folded: line\r\n\r\n", reject=R400,
         source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-space-before-colon",
         b"HEAD /foo HTTP/1.1\r\n" + H + b"foo  : line\r\n\r\n", reject=R400,
         source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-tab-before-colon",
         b"HEAD /foo HTTP/1.1\r\n" + H + b"foo\t: line\r\n\r\n", reject=R400,
         source="h11 test_io.py test_readers_unusual"),
    Case("test_io-readers_unusual-empty-name", b"HEAD /foo HTTP/1.1\r\n" + H + b": line\r\n\r\n",
         reject=R400, source="h11 test_io.py test_readers_unusual"),
    Case("test_io-ContentLengthReader-0", post_cl(b"0"), serve=Served(1, bodies=[b""]),
         source="h11 test_io.py test_ContentLengthReader"),
    Case("test_io-ContentLengthReader-10", post_cl(b"10", body=b"0123456789"),
         serve=Served(1, bodies=[b"0123456789"]), source="h11 test_io.py test_ContentLengthReader"),
    Case("test_io-Http10Reader-request-has-no-body", b"POST / HTTP/1.0\r\n\r\nasdf",
         serve=Served(1, bodies=[b""], close=True),
         source="h11 test_io.py test_Http10Reader (a request body needs a length)"),
    Case("test_io-ChunkedReader-empty", post_chunked(b"0\r\n\r\n"), serve=Served(1, bodies=[b""]),
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-trailer", post_chunked(b"0\r\nSome: header\r\n\r\n"),
         serve=Served(1, bodies=[b""]), source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-two-chunks-trailer",
         post_chunked(b"5\r\n01234\r\n10\r\n0123456789abcdef\r\n0\r\nSome: header\r\n\r\n"),
         serve=Served(1, bodies=[b"012340123456789abcdef"]),
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-two-chunks",
         post_chunked(b"5\r\n01234\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"),
         serve=Served(1, bodies=[b"012340123456789abcdef"]),
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-mixed-case-hex",
         post_chunked(b"aA\r\n" + b"x" * 0xAA + b"\r\n0\r\n\r\n"),
         serve=Served(1, bodies=[b"x" * 0xAA]), source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-size-overflow", post_chunked(b"9" * 100 + b"\r\nxxx"),
         reject=Rejected((400, 413)), source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-nul-in-size", post_chunked(b"10\x00\r\nxxx"), reject=R400,
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-extension",
         post_chunked(b"5; hello=there\r\nxxxxx\r\n0\r\n\r\n"),
         serve=Served(1, bodies=[b"xxxxx"]), reject=R400,
         source="h11 test_io.py test_ChunkedReader (BWS after ';': RFC 9112 7.1.1 allows it,"
                " llhttp strict rejects)"),
    Case("test_io-ChunkedReader-whitespace-after-size",
         post_chunked(b"5   \t \r\n01234\r\n0\r\n\r\n"),
         serve=Served(1, bodies=[b"01234"]), reject=R400,
         source="h11 test_io.py test_ChunkedReader (llhttp strict: 400)"),
    Case("test_io-ChunkedReader-data-not-followed-by-crlf",
         post_chunked(b"3\r\nxxx__1a\r\n0\r\n\r\n"), reject=R400,
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-data-followed-by-cr-only",
         post_chunked(b"3\r\nxxx\r_1a\r\n0\r\n\r\n"), reject=R400,
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-ChunkedReader-data-followed-by-lf-only",
         post_chunked(b"3\r\nxxx_\n1a\r\n0\r\n\r\n"), reject=R400,
         source="h11 test_io.py test_ChunkedReader"),
    Case("test_io-reject_garbage_after_request_line",
         b"HEAD /foo HTTP/1.1 xxxxxx\r\nHost: a\r\n\r\n", reject=R400,
         source="h11 test_io.py test_reject_garbage_after_response_line (request side)"),
    Case("test_io-reject_garbage_in_header_line",
         b"HEAD /foo HTTP/1.1\r\nHost: foo\x00bar\r\n\r\n", reject=R400,
         source="h11 test_io.py test_reject_garbage_in_header_line"),
    *[Case(f"test_io-reject_non_vchar_in_path-{bad:02x}",
           b"HEAD /" + bytes([bad]) + b" HTTP/1.1\r\nHost: foobar\r\n\r\n", reject=R400,
           source="h11 test_io.py test_reject_non_vchar_in_path")
      for bad in b"\x00\x7f\xee"],
    # A space there makes two spaces before the version: RFC 9112 3 lets a recipient
    # parse on whitespace (then the target is "/"), or reject.
    Case("test_io-reject_non_vchar_in_path-20", b"HEAD /  HTTP/1.1\r\nHost: foobar\r\n\r\n",
         serve=Served(1, paths=["/"]), reject=R400, head=True,
         source="h11 test_io.py test_reject_non_vchar_in_path (RFC 9112 3: 400, or words)"),
    Case("test_io-allow_some_garbage_in_cookies",
         b"HEAD /foo HTTP/1.1\r\nHost: foo\r\n"
         b"Set-Cookie: ___utmvafIumyLc=kUd\x01UpAt; path=/; Max-Age=900\r\n\r\n",
         serve=Served(1, check=value_is("Set-Cookie",
                                        b"___utmvafIumyLc=kUd\x01UpAt; path=/; Max-Age=900")),
         reject=R400, head=True,
         source="h11 test_io.py test_allow_some_garbage_in_cookies (llhttp strict: 400)"),
]

HEADERS = [
    *[Case(f"test_headers-bad-name-{i}", b"GET / HTTP/1.1\r\n" + H + name + b": baz\r\n\r\n",
           reject=R400, source="h11 test_headers.py test_normalize_and_validate (names)")
      for i, name in enumerate([b"foo ", b"foo bar", b"foo\x00bar", b"foo\xffbar",
                                b"foo\x01bar"])],
    Case("test_headers-cr-in-value", b"GET / HTTP/1.1\r\n" + H + b"foo: bar\rbaz\r\n\r\n",
         reject=R400, source="h11 test_headers.py test_normalize_and_validate (values)"),
    Case("test_headers-nul-in-value", b"GET / HTTP/1.1\r\n" + H + b"foo: bar\x00baz\r\n\r\n",
         reject=R400, source="h11 test_headers.py test_normalize_and_validate (values)"),
    Case("test_headers-cl-1", post_cl(b"1", body=b"x"), serve=Served(1, bodies=[b"x"]),
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-asdf", post_cl(b"asdf"), reject=R400,
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-1x", post_cl(b"1x", body=b"x"), reject=R400,
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-1-and-2", post_cl(b"1", b"2", body=b"xx"), reject=R400,
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-0-and-0", post_cl(b"0", b"0"), serve=Served(1, bodies=[b""]),
         reject=R400, source="h11 test_headers.py (RFC 9112 6.3: identical values may pass)"),
    Case("test_headers-cl-0-comma-0", post_cl(b"0 , 0"), serve=Served(1, bodies=[b""]),
         reject=R400, source="h11 test_headers.py (RFC 9112 6.3: identical values may pass)"),
    Case("test_headers-cl-1-1-2", post_cl(b"1", b"1", b"2", body=b"xx"), reject=R400,
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-list-1-1-2", post_cl(b"1 , 1,2", body=b"xx"), reject=R400,
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-cl-huge", post_cl(b"1" * 21), reject=Rejected((400, 413)),
         source="h11 test_headers.py test_normalize_and_validate (content-length)"),
    Case("test_headers-te-chunked-mixed-case",
         b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: cHuNkEd\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         serve=Served(1, bodies=[b"abc"]),
         source="h11 test_headers.py test_normalize_and_validate (transfer-encoding)"),
    Case("test_headers-te-gzip",
         b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n",
         reject=Rejected((400, 501)),
         source="h11 test_headers.py test_normalize_and_validate (501 hint)"),
    Case("test_headers-te-chunked-then-gzip",
         b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
         b"Transfer-Encoding: gzip\r\n\r\n",
         reject=Rejected((400, 501)),
         source="h11 test_headers.py test_normalize_and_validate (501 hint)"),
]

CONNECTION = [
    Case("test_connection-basics_and_content_length",
         b"GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\n1234567890",
         serve=Served(1, bodies=[b"1234567890"]),
         source="h11 test_connection.py test_Connection_basics_and_content_length"),
    Case("test_connection-chunked",
         post_chunked(b"a\r\n1234567890\r\n5\r\nabcde\r\n0\r\nhello: there\r\n\r\n"),
         serve=Served(1, bodies=[b"1234567890abcde"]),
         source="h11 test_connection.py test_chunked"),
    Case("test_connection-server_talking_to_http10_client", b"GET / HTTP/1.0\r\n\r\n",
         serve=Served(1, close=True),
         source="h11 test_connection.py test_server_talking_to_http10_client"),
    Case("test_connection-http10_client_post",
         b"POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n1234567890",
         serve=Served(1, bodies=[b"1234567890"], close=True),
         source="h11 test_connection.py test_server_talking_to_http10_client"),
    Case("test_connection-max_incomplete_event_size-big-header-ok",
         b"GET / HTTP/1.0\r\nBig: " + b"a" * 4000 + b"\r\n\r\n",
         serve=Served(1, close=True),
         source="h11 test_connection.py test_max_incomplete_event_size_countermeasure"),
    Case("test_connection-max_incomplete_event_size-endless-header",
         b"GET / HTTP/1.0\r\nEndless: " + b"a" * 20000,
         reject=Rejected((400, 431)),
         source="h11 test_connection.py test_max_incomplete_event_size_countermeasure"),
    Case("test_connection-max_incomplete_event_size-pipelined-garbage",
         b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n" + b"X" * 1000,
         serve=Served(2, paths=["/1", "/2"]), cut=True,
         source="h11 test_connection.py test_max_incomplete_event_size_countermeasure"),
    Case("test_connection-pipelining",
         b"GET /1 HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\n12345"
         b"GET /2 HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\n67890"
         b"GET /3 HTTP/1.1\r\nHost: a.com\r\n\r\n",
         serve=Served(3, paths=["/1", "/2", "/3"], bodies=[b"12345", b"67890", b""]),
         source="h11 test_connection.py test_pipelining"),
    Case("test_connection-pipelined_close",
         b"GET /1 HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\n12345"
         b"GET /2 HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\n67890",
         serve=Served(2, bodies=[b"12345", b"67890"]), cut=True,
         source="h11 test_connection.py test_pipelined_close (answered after the EOF)"),
    Case("test_connection-protocol_switch-not-taken",
         b"GET / HTTP/1.1\r\nHost: foo\r\nContent-Length: 1\r\nUpgrade: a, b\r\n"
         b"Connection: upgrade\r\n\r\n1GET /next HTTP/1.1\r\nHost: foo\r\n\r\n",
         serve=Served(2, bodies=[b"1", b""]), source="h11 test_connection.py test_protocol_switch"),
    Case("test_connection-errors-gibberish", b"gibberish\r\n\r\n", reject=R400,
         source="h11 test_connection.py test_errors"),
    Case("test_connection-connection_drop", b"GET /", cut=True, head_cut=True,
         source="h11 test_connection.py test_connection_drop"),
    Case("test_connection-empty_request", b"\r\n", cut=True, head_cut=True,
         source="h11 test_connection.py test_empty_request"),
    *[Case(f"test_connection-early_detection_of_invalid_request-{i}", data, reject=R400,
           source="h11 test_connection.py test_early_detection_of_invalid_request "
                  "(answered without waiting for a whole head)")
      for i, data in enumerate([b"\x00", b"\x20", b"\x16\x03\x01\x00\xa5"])],
    Case("test_connection-lost_connection_in_content_length_body",
         b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\n12345",
         cut=True,
         source=("h11 test_connection.py"
                 " test_special_exceptions_for_lost_connection_in_message_body")),
    Case("test_connection-lost_connection_in_chunked_body",
         b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"8\r\n012345",
         cut=True,
         source=("h11 test_connection.py"
                 " test_special_exceptions_for_lost_connection_in_message_body")),
]


@pytest.mark.parametrize("case", case_params(IO + HEADERS + CONNECTION))
def test_h11_case(recorded, case):
    run_case(recorded.port, recorded.recorder, case)


def test_connection_chunk_boundaries(recorded):
    """h11 test_connection.py test_chunk_boundaries: chunks split anywhere."""
    pieces = [post_chunked(b""), b"5\r\nhello\r\n", b"5\r\nhel", b"l", b"o\r\n", b"5\r\nhello",
              b"\r\n", b"0\r\n\r\n"]
    with Conn(recorded.port) as conn:
        for piece in pieces:
            conn.send(piece)
        reply = conn.reply()
    assert reply.status == 200
    assert [s.body for s in recorded.seen] == [b"hellohellohello"]


@pytest.mark.parametrize("value", [b"100-continue", b"100-Continue", b"100-CONTINUE"])
def test_headers_expect_100_continue_is_case_insensitive(recorded, value):
    """h11 test_headers.py test_has_100_continue."""
    with Conn(recorded.port) as conn:
        conn.send(b"POST / HTTP/1.1\r\n" + H + b"Expect: " + value
                  + b"\r\nContent-Length: 3\r\n\r\n")
        assert conn.reply(within=3).status == 100
        conn.send(b"abc")
        assert conn.reply().status == 200
    assert [s.body for s in recorded.seen] == [b"abc"]


def test_headers_expect_100_continue_ignored_for_http10(recorded):
    """h11 test_headers.py test_has_100_continue; RFC 9110 10.1.1: ignored for 1.0."""
    with Conn(recorded.port) as conn:
        conn.send(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
        reply = conn.reply()
    assert reply.status == 200, "100 Continue sent to an HTTP/1.0 client"


def test_408_request_timeout(recorded_with):
    """h11 test_connection.py test_408_request_timeout: a head not sent in time."""
    server = recorded_with(safety_limits=make_safety_limits(request_read_timeout=0.5))
    with Conn(server.port) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
        replies, closed = conn.until_close(within=3)
    assert [r.status for r in replies] in ([408], []) and closed
    assert not server.seen


def test_against_stdlib_http_client(recorded):
    """h11 test_against_stdlib_http.py test_h11_as_server: the stdlib client."""
    client = http.client.HTTPConnection("127.0.0.1", recorded.port, timeout=5)
    try:
        client.request("GET", "/stdlib")
        first = client.getresponse()
        assert (first.status, first.read()) == (200, b"GET /stdlib 0")
        client.request("POST", "/stdlib", body=iter([b"chunk", b"ed"]), encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
        second = client.getresponse()
        assert (second.status, second.read()) == (200, b"POST /stdlib 7")
    finally:
        client.close()
    assert [s.body for s in recorded.seen] == [b"", b"chunked"]
