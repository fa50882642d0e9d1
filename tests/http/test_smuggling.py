"""Request smuggling and leniency: every case of issue 12, over a real socket.

Each smuggling case hides a second request (``GET /smuggled``) where a lenient parser
would find it.  A correct server answers the error (400, or 501 for a transfer coding it
does not implement) and closes: the application never runs ``/smuggled``, nor anything
else past the error.  Where RFC 9112 leaves a choice (CL+TE: 400, or chunked then
close), both outcomes pass.
"""
from __future__ import annotations

import logging

import pytest

from tests.http.rawhttp import Case, Conn, Rejected, Served, case_params, run_case

H = b"Host: a\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
ISSUE = "issue 12"


def post(headers: bytes, body: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    return b"POST / " + version + b"\r\n" + H + headers + b"\r\n" + body


def te(value: bytes, body: bytes = b"0\r\n\r\n" + SMUGGLED) -> bytes:
    return post(b"Transfer-Encoding: " + value + b"\r\n", body)


def cl(value: bytes, body: bytes = b"hello" + SMUGGLED) -> bytes:
    return post(b"Content-Length: " + value + b"\r\n", body)


REJECT = Rejected((400,))
REJECT_TE = Rejected((400, 501))  # RFC 9112 6.3 (400) or 6.1 (501: not understood)

SMUGGLING = [
    # Content-Length and Transfer-Encoding together (RFC 9112 6.3: 400, or chunked and
    # close after the answer).
    Case("cl-te", post(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                       b"0\r\n\r\n" + SMUGGLED),
         serve=Served(1, bodies=[b""], close=True), reject=REJECT, source=ISSUE),
    Case("te-cl", post(b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                       b"0\r\n\r\n" + SMUGGLED),
         serve=Served(1, bodies=[b""], close=True), reject=REJECT, source=ISSUE),
    Case("cl-te-body-is-a-request", post(b"Content-Length: 38\r\nTransfer-Encoding: chunked\r\n",
                                         b"0\r\n\r\n" + SMUGGLED),
         serve=Served(1, bodies=[b""], close=True), reject=REJECT, source=ISSUE),
    Case("cl-te-identity", post(b"Content-Length: 5\r\nTransfer-Encoding: identity\r\n",
                                b"hello" + SMUGGLED),
         reject=REJECT_TE, source=ISSUE),
    # Two Content-Length values
    Case("two-content-lengths", post(b"Content-Length: 5\r\nContent-Length: 0\r\n",
                                     b"hello" + SMUGGLED),
         reject=REJECT, source=ISSUE),
    Case("two-content-lengths-reversed", post(b"Content-Length: 0\r\nContent-Length: 5\r\n",
                                              b"hello" + SMUGGLED),
         reject=REJECT, source=ISSUE),
    Case("content-length-list-of-two", cl(b"5, 0"), reject=REJECT, source=ISSUE),
    Case("two-equal-content-lengths", post(b"Content-Length: 5\r\nContent-Length: 5\r\n",
                                           b"hello"),
         serve=Served(1, bodies=[b"hello"]), reject=REJECT,
         source="RFC 9112 6.3 (may accept identical values)"),
    # Content-Length is digits only (Python's int() takes much more)
    Case("content-length-plus", cl(b"+5"), reject=REJECT, source=ISSUE),
    Case("content-length-underscore", cl(b"1_0", b"hello" + SMUGGLED), reject=REJECT,
         source=ISSUE),
    Case("content-length-minus", cl(b"-5"), reject=REJECT, source=ISSUE),
    Case("content-length-hex", cl(b"0x5"), reject=REJECT, source=ISSUE),
    Case("content-length-decimal-point", cl(b"5.0"), reject=REJECT, source=ISSUE),
    Case("content-length-unicode-digit", cl("\u0665".encode("utf-8")), reject=REJECT,
         source=ISSUE),
    Case("content-length-vtab-before", cl(b"\x0b5"), reject=REJECT, source=ISSUE),
    Case("content-length-formfeed-after", cl(b"5\x0c"), reject=REJECT, source=ISSUE),
    Case("content-length-space-inside", cl(b"1 0"), reject=REJECT, source=ISSUE),
    Case("content-length-empty", cl(b""), reject=REJECT, source=ISSUE),
    Case("content-length-ows-space", post(b"Content-Length:  5 \r\n", b"hello"),
         serve=Served(1, bodies=[b"hello"]), source="RFC 9110 5.5: OWS around a value"),
    # Transfer-Encoding that is not a final, single "chunked"
    Case("te-xchunked", te(b"xchunked"), reject=REJECT_TE, source=ISSUE),
    Case("te-gzip", te(b"gzip", b"hello" + SMUGGLED), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-identity", te(b"chunked, identity"), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-twice-in-one-field", te(b"chunked, chunked"), reject=REJECT_TE,
         source=ISSUE),
    Case("te-chunked-twice-two-fields",
         post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
              b"0\r\n\r\n" + SMUGGLED),
         reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-in-vtab", te(b"\x0bchunked\x0b"), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-in-formfeed", te(b"\x0cchunked\x0c"), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-in-nel", te(b"\x85chunked\x85"), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-in-nbsp", te(b"\xa0chunked\xa0"), reject=REJECT_TE, source=ISSUE),
    Case("te-chunked-prefix-vtab", te(b"\x0bchunked"), reject=REJECT_TE, source=ISSUE),
    Case("te-unknown-then-chunked", te(b"foo, chunked", b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
         reject=Rejected((501,)), source="issue 12: unknown transfer coding -> 501"),
    Case("te-empty-value", te(b"", b"0\r\n\r\n" + SMUGGLED), reject=REJECT_TE, source=ISSUE),
    # A malformed chunk, then more bytes
    Case("chunk-data-longer-than-size",
         te(b"chunked", b"3\r\nhello\r\n0\r\n\r\n" + SMUGGLED), reject=REJECT, source=ISSUE),
    Case("chunk-size-not-hex", te(b"chunked", b"zz\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
         reject=REJECT, source=ISSUE),
    Case("chunk-size-negative", te(b"chunked", b"-5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
         reject=REJECT, source=ISSUE),
    Case("chunk-size-with-0x", te(b"chunked", b"0x5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
         reject=REJECT, source=ISSUE),
    Case("chunk-size-overflow",
         te(b"chunked", b"1" + b"0" * 20 + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
         reject=Rejected((400, 413)), source=ISSUE),
    Case("chunk-missing-crlf-after-data",
         te(b"chunked", b"5\r\nhello0\r\n\r\n" + SMUGGLED), reject=REJECT, source=ISSUE),
    # A bare LF in a chunk extension
    Case("chunk-extension-bare-lf",
         te(b"chunked", b"5;a\nb\r\nhello\r\n0\r\n\r\n" + SMUGGLED), reject=REJECT, source=ISSUE),
    Case("chunk-extension-bare-cr",
         te(b"chunked", b"5;a\rb\r\nhello\r\n0\r\n\r\n" + SMUGGLED), reject=REJECT, source=ISSUE),
    # HTTP/1.0 with Transfer-Encoding: faulty framing, close after processing (RFC 9112 6.1)
    Case("http10-te-chunked",
         post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED, version=b"HTTP/1.0"),
         serve=Served(1, close=True), reject=REJECT, source=ISSUE),
    Case("http10-te-chunked-and-cl",
         post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n" + SMUGGLED,
              version=b"HTTP/1.0"),
         serve=Served(1, close=True), reject=REJECT, source=ISSUE),
]

LENIENCY = [
    # A request head cut off by EOF is never executed
    Case("head-cut-after-request-line", b"GET /x HTTP/1.1\r\n", cut=True, head_cut=True,
         source=ISSUE),
    Case("head-cut-after-a-header", b"GET /x HTTP/1.1\r\nHost: a\r\n", cut=True, head_cut=True,
         source=ISSUE),
    Case("head-cut-in-a-header", b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b", cut=True,
         head_cut=True, source=ISSUE),
    Case("head-cut-in-request-line", b"GET /x HTT", cut=True, head_cut=True, source=ISSUE),
    Case("head-cut-after-cr", b"GET /x HTTP/1.1\r\nHost: a\r\n\r", cut=True, head_cut=True,
         source=ISSUE),
    Case("second-head-cut", b"GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n",
         serve=Served(1, paths=["/x"]), cut=True, head_cut=True, source=ISSUE),
    Case("body-cut-content-length", post(b"Content-Length: 10\r\n", b"hello"), cut=True,
         source="a body shorter than its Content-Length never reaches the app whole"),
    Case("body-cut-chunked", te(b"chunked", b"5\r\nhello\r\n"), cut=True,
         source="a chunked body without its last chunk never reaches the app whole"),
    # Host: exactly one for HTTP/1.1
    Case("no-host", b"GET /x HTTP/1.1\r\n\r\n", reject=REJECT, source=ISSUE),
    Case("two-hosts", b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("two-equal-hosts", b"GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", reject=REJECT,
         source="RFC 9112 3.2: more than one Host line -> 400"),
    Case("host-with-space", b"GET /x HTTP/1.1\r\nHost: a b\r\n\r\n", reject=REJECT,
         source="RFC 9112 3.2: an invalid Host -> 400"),
    Case("http10-no-host", b"GET /x HTTP/1.0\r\n\r\n", serve=Served(1, close=True),
         source="RFC 9112 3.2: Host is required of HTTP/1.1 only"),
    # NUL or bare CR in a field value
    Case("nul-in-value", b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("bare-cr-in-value", b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("nul-in-host", b"GET /x HTTP/1.1\r\nHost: a\x00b\r\n\r\n", reject=REJECT, source=ISSUE),
    # Field names and methods are tokens
    Case("name-with-space", b"GET /x HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-with-at", b"GET /x HTTP/1.1\r\nHost: a\r\nX@A: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-with-parens", b"GET /x HTTP/1.1\r\nHost: a\r\n(XA): b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-with-del", b"GET /x HTTP/1.1\r\nHost: a\r\nX\x7fA: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-with-latin1", b"GET /x HTTP/1.1\r\nHost: a\r\nX\xe9A: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-with-nul", b"GET /x HTTP/1.1\r\nHost: a\r\nX\x00A: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-empty", b"GET /x HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("name-space-before-colon", b"GET /x HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n",
         reject=REJECT, source="RFC 9112 5.1: no whitespace before the colon"),
    Case("method-with-at", b"G@T /x HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT, source=ISSUE),
    Case("method-with-parens", b"G(E)T /x HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("method-with-nul", b"GE\x00T /x HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("method-with-latin1", b"G\xc9T /x HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("method-with-slash", b"GE/T /x HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("method-token-odd-but-valid", b"X-M!#$%&'*+.^_`|~ /x HTTP/1.1\r\nHost: a\r\n\r\n",
         serve=Served(1), reject=Rejected((400, 405, 501)),
         source="RFC 9110 5.6.2: any token is a method; a server may not implement it"),
    # Control bytes in the target
    Case("target-with-nul", b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("target-with-soh", b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("target-with-tab", b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("target-with-del", b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("target-with-escape", b"GET /a\x1bb HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    Case("target-with-vtab", b"GET /a\x0bb HTTP/1.1\r\nHost: a\r\n\r\n", reject=REJECT,
         source=ISSUE),
    # Absolute-form targets are accepted (RFC 9112 3.2.2): path and Host from the URL
    Case("absolute-form", b"GET http://host.example/path?q=1 HTTP/1.1\r\nHost: other\r\n\r\n",
         serve=Served(1, paths=["/path"], check=lambda seen, r: _host_and_query(
             seen, "host.example", b"q=1")), source=ISSUE),
    Case("absolute-form-with-port", b"GET http://host.example:8080/p HTTP/1.1\r\nHost: x\r\n\r\n",
         serve=Served(1, paths=["/p"], check=lambda seen, r: _host_and_query(
             seen, "host.example:8080", b"")), source=ISSUE),
    # One empty line before the request line is ignored (RFC 9112 2.2)
    Case("empty-line-before-request", b"\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
         serve=Served(1, paths=["/x"]), source=ISSUE),
    Case("empty-line-between-pipelined",
         b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n",
         serve=Served(2, paths=["/x", "/y"]), source=ISSUE),
    # Versions
    Case("version-http-1", b"GET /x HTTP/1\r\nHost: a\r\n\r\n", reject=Rejected((400, 505)),
         source=ISSUE),
    Case("version-http-2-0", b"GET /x HTTP/2.0\r\nHost: a\r\n\r\n", reject=Rejected((505,)),
         source="issue 12; RFC 9110 15.6.6"),
    Case("version-http-3-0", b"GET /x HTTP/3.0\r\nHost: a\r\n\r\n", reject=Rejected((505,)),
         source="RFC 9110 15.6.6"),
    Case("version-http-1-2", b"GET /x HTTP/1.2\r\nHost: a\r\n\r\n",
         serve=Served(1), reject=Rejected((400, 505)),
         source="issue 12; RFC 9110 2.5: a higher minor version is served as 1.1, or 505"),
]


def _host_and_query(seen, host, query):
    assert seen[0].host == host, f"Host {seen[0].host!r}, expected {host!r}"
    assert seen[0].query == query, f"query {seen[0].query!r}"


@pytest.mark.parametrize("case", case_params(SMUGGLING))
def test_smuggling(recorded, case):
    run_case(recorded.port, recorded.recorder, case)
    assert all(s.path != "/smuggled" for s in recorded.seen)


@pytest.mark.parametrize("case", case_params(LENIENCY))
def test_leniency(recorded, case):
    run_case(recorded.port, recorded.recorder, case)


def _no_traceback(caplog, capfd) -> None:
    """Nothing logged with a traceback, through logging or straight to stderr."""
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
    err = capfd.readouterr().err
    assert "Traceback" not in err, err


def test_malformed_version_logs_no_traceback(recorded, caplog, capfd):
    """``GET /x HTTP/1`` is a client's error: an answer, a close, no traceback logged."""
    caplog.set_level(logging.DEBUG)
    run_case(recorded.port, recorded.recorder,
             Case("version-http-1-log", b"GET /x HTTP/1\r\nHost: a\r\n\r\n",
                  reject=Rejected((400, 505)), source=ISSUE))
    _no_traceback(caplog, capfd)


@pytest.mark.parametrize("raw", [
    b"GET /x HTTP/1\r\nHost: a\r\n\r\n", b"GET /x HTTP/\r\nHost: a\r\n\r\n",
    b"GET /x HTTP/1.\r\nHost: a\r\n\r\n", b"GET /x HTTP/a.b\r\nHost: a\r\n\r\n",
    b"GET /x FOO\r\nHost: a\r\n\r\n", b"GET /x HTTP/1.1.1\r\nHost: a\r\n\r\n",
], ids=["HTTP-1", "HTTP-", "HTTP-1-dot", "HTTP-a-b", "FOO", "HTTP-1-1-1"])
def test_malformed_versions_log_no_traceback(recorded, caplog, capfd, raw):
    caplog.set_level(logging.DEBUG)
    with Conn(recorded.port) as conn:
        conn.send(raw)
        replies, closed = conn.until_close()
    assert [r.status for r in replies] in ([400], [505]), replies
    assert closed and not recorded.recorder.entered
    _no_traceback(caplog, capfd)
