"""RFC 9112 (HTTP/1.1 message syntax) rules and examples, as server behaviour.

Section numbers are cited in each case's source.  Where the RFC lets a recipient choose
(whitespace-delimited parsing of the request line, asterisk-form outside OPTIONS), both
allowed outcomes pass; where leniency is a smuggling risk (bare CR), only the strict one.
"""
from __future__ import annotations

import pytest

from dispatch.safety_limits import make_safety_limits
from tests.http.rawhttp import Case, Rejected, Served, case_params, run_case

R400 = Rejected((400,))
H = b"Host: a\r\n"


def seen_as(path: str, host: str = None, query: bytes = None):
    def check(seen, replies):
        assert seen[0].path == path, seen[0].path
        if host is not None:
            assert seen[0].host == host, seen[0].host
        if query is not None:
            assert seen[0].query == query, seen[0].query

    return check


CASES = [
    # 2.2 Message parsing
    Case("2.2-whitespace-before-first-field", b"GET /x HTTP/1.1\r\n Host: a\r\n\r\n",
         reject=R400, source="RFC 9112 2.2"),
    Case("2.2-empty-line-before-request-line", b"\r\nGET /x HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), source="RFC 9112 2.2 (SHOULD ignore one)"),
    Case("2.2-bare-cr-as-line-end", b"GET /x HTTP/1.1\r" + H + b"\r\n", reject=R400,
         source="RFC 9112 2.2 (a bare CR is invalid or replaced by SP)"),
    # 2.3 HTTP version: case-sensitive name, one digit each side
    Case("2.3-lowercase-http-name", b"GET /x http/1.1\r\n" + H + b"\r\n",
         reject=Rejected((400, 505)), source="RFC 9112 2.3"),
    Case("2.3-two-digit-minor", b"GET /x HTTP/1.01\r\n" + H + b"\r\n",
         reject=Rejected((400, 505)), source="RFC 9112 2.3"),
    Case("2.3-two-digit-major", b"GET /x HTTP/01.1\r\n" + H + b"\r\n",
         reject=Rejected((400, 505)), source="RFC 9112 2.3"),
    Case("2.3-http-0-9-version", b"GET /x HTTP/0.9\r\n" + H + b"\r\n",
         reject=Rejected((400, 505)), source="RFC 9112 2.3"),
    Case("2.3-http-1-0", b"GET /x HTTP/1.0\r\n\r\n", serve=Served(1, close=True),
         source="RFC 9112 2.3"),
    # 3 Request line
    Case("3-two-spaces-after-method", b"GET  /x HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), reject=R400, source="RFC 9112 3 (MAY parse on words)"),
    Case("3-two-spaces-before-version", b"GET /x  HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), reject=R400, source="RFC 9112 3 (MAY parse on words)"),
    Case("3-trailing-space", b"GET /x HTTP/1.1 \r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), reject=R400, source="RFC 9112 3 (MAY parse on words)"),
    Case("3-tab-separators", b"GET\t/x\tHTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), reject=R400, source="RFC 9112 3 (MAY parse on words)"),
    Case("3-bare-cr-separator", b"GET\r/x HTTP/1.1\r\n" + H + b"\r\n", reject=R400,
         source="RFC 9112 3 (bare CR: smuggling risk, strict)"),
    Case("3-missing-target", b"GET HTTP/1.1\r\n" + H + b"\r\n", reject=R400,
         source="RFC 9112 3"),
    Case("3-only-method", b"GET\r\n" + H + b"\r\n", reject=Rejected((400, 505)),
         source="RFC 9112 3"),
    Case("3-request-line-too-long", b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n",
         reject=Rejected((414, 400)), source="RFC 9112 3 (414; max_request_line_length)"),
    # 3.2 Request target
    Case("3.2.1-origin-form-example",
         b"GET /where?q=now HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
         serve=Served(1, check=seen_as("/where", "www.example.com", b"q=now")),
         source="RFC 9112 3.2.1"),
    Case("3.2.2-absolute-form-example",
         b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\n"
         b"Host: www.example.org\r\n\r\n",
         serve=Served(1, check=seen_as("/pub/WWW/TheProject.html", "www.example.org")),
         source="RFC 9112 3.2.2"),
    Case("3.2.2-absolute-form-host-differs",
         b"GET http://www.example.org/p HTTP/1.1\r\nHost: other.example\r\n\r\n",
         serve=Served(1, check=seen_as("/p", "www.example.org")),
         source="RFC 9112 3.2.2 (the target's authority wins over Host)"),
    Case("3.2.2-absolute-form-https", b"GET https://www.example.org/p?x=1 HTTP/1.1\r\n"
         b"Host: www.example.org\r\n\r\n",
         serve=Served(1, check=seen_as("/p", "www.example.org", b"x=1")),
         source="RFC 9112 3.2.2"),
    Case("3.2.2-absolute-form-no-path", b"GET http://www.example.org HTTP/1.1\r\n"
         b"Host: www.example.org\r\n\r\n",
         serve=Served(1, check=seen_as("/", "www.example.org")), source="RFC 9112 3.2.2"),
    Case("3.2.2-absolute-form-http10", b"GET http://www.example.org/p HTTP/1.0\r\n\r\n",
         serve=Served(1, close=True, check=seen_as("/p", "www.example.org")),
         source="RFC 9112 3.2.2"),
    Case("3.2.3-authority-form-outside-connect", b"GET www.example.com:80 HTTP/1.1\r\n"
         b"Host: www.example.com\r\n\r\n", reject=R400,
         source="RFC 9112 3.2.3 (authority-form is for CONNECT only)"),
    Case("3.2.4-asterisk-form-example", b"OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n",
         serve=Served(1), source="RFC 9112 3.2.4"),
    Case("3.2.4-absolute-form-options-example",
         b"OPTIONS http://www.example.org:8001 HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n",
         serve=Served(1, check=seen_as("/", "www.example.org:8001")),
         reject=R400, source="RFC 9112 3.2.4"),
    Case("3.2.4-asterisk-form-with-get", b"GET * HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1), reject=R400, source="RFC 9112 3.2.4 (asterisk-form is for OPTIONS)"),
    Case("3.2-relative-target", b"GET x/y HTTP/1.1\r\n" + H + b"\r\n", reject=R400,
         source="RFC 9112 3.2 (no relative targets)"),
    Case("3.2-fragment-in-target", b"GET /x#frag HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"]), reject=R400,
         source="RFC 9112 3.2 (no fragment in a target; 400, or dropped)"),
    Case("3.2-host-missing", b"GET /x HTTP/1.1\r\n\r\n", reject=R400, source="RFC 9112 3.2"),
    Case("3.2-host-twice", b"GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", reject=R400,
         source="RFC 9112 3.2"),
    Case("3.2-host-invalid", b"GET /x HTTP/1.1\r\nHost: a/b\r\n\r\n", reject=R400,
         source="RFC 9112 3.2 (invalid field value)"),
    Case("3.2-host-with-userinfo", b"GET /x HTTP/1.1\r\nHost: u@a\r\n\r\n", reject=R400,
         source="RFC 9112 3.2 (Host = uri-host [ ':' port ])"),
    # 5 Field syntax
    Case("5.1-space-before-colon", b"GET /x HTTP/1.1\r\n" + H + b"X-A : b\r\n\r\n",
         reject=R400, source="RFC 9112 5.1 (MUST reject)"),
    Case("5.1-no-colon", b"GET /x HTTP/1.1\r\n" + H + b"X-A b\r\n\r\n", reject=R400,
         source="RFC 9112 5.1"),
    Case("5.1-ows-around-value", b"GET /x HTTP/1.1\r\n" + H + b"X-A: \t b \t\r\n\r\n",
         serve=Served(1, check=lambda seen, r: _value(seen, "X-A", "b")), source="RFC 9112 5.1"),
    Case("5.1-obs-text-in-value", b"GET /x HTTP/1.1\r\n" + H + b"X-A: caf\xe9\r\n\r\n",
         serve=Served(1, check=lambda seen, r: _value(seen, "X-A", "caf\xe9")),
         source="RFC 9110 5.5 (obs-text is allowed)"),
    Case("5.2-obs-fold", b"GET /x HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n",
         serve=Served(1, check=lambda seen, r: _value(seen, "X-A", "b c")), reject=R400,
         source="RFC 9112 5.2 (400, or each fold replaced by SP)"),
    Case("5.2-obs-fold-content-length", b"POST /x HTTP/1.1\r\n" + H
         + b"Content-Length:\r\n 3\r\n\r\nabc",
         serve=Served(1, bodies=[b"abc"]), reject=R400, source="RFC 9112 5.2"),
    # 6 Message body
    Case("6.3-no-length-means-no-body",
         b"POST /x HTTP/1.1\r\n" + H + b"\r\nGET /y HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(2, paths=["/x", "/y"], bodies=[b"", b""]), source="RFC 9112 6.3 (7)"),
    Case("6.3-chunked-final-wins-over-cl",
         b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
         b"3\r\nabc\r\n0\r\n\r\n",
         serve=Served(1, bodies=[b"abc"], close=True), reject=R400,
         source="RFC 9112 6.3 (3): chunked, then close; or 400"),
    # 7 Chunked
    Case("7.1-chunk-ext-quoted", b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"3;name=\"quoted;value\"\r\nabc\r\n0\r\n\r\n",
         serve=Served(1, bodies=[b"abc"]), source="RFC 9112 7.1.1"),
    Case("7.1-last-chunk-leading-zeros", b"POST /x HTTP/1.1\r\n" + H
         + b"Transfer-Encoding: chunked\r\n\r\n003\r\nabc\r\n000\r\n\r\n",
         serve=Served(1, bodies=[b"abc"]), source="RFC 9112 7.1"),
    Case("7.1.2-content-length-in-trailer-ignored", b"POST /x HTTP/1.1\r\n" + H
         + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nContent-Length: 100\r\n\r\n"
         + b"GET /y HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(2, bodies=[b"abc", b""], paths=["/x", "/y"]), reject=R400,
         source="RFC 9112 7.1.2 (framing fields are not trailers)"),
    pytest.param(
        Case("7.1-chunk-size-too-large-for-limit", b"POST /x HTTP/1.1\r\n" + H
             + b"Transfer-Encoding: chunked\r\n\r\nfffffffffff\r\nabc",
             reject=Rejected((400, 413)), source="RFC 9112 7.1 + max_request_body_length"),
        marks=pytest.mark.xfail(strict=True, reason=(
            "httptools does not expose a chunk's declared size: the limit applies to the "
            "bytes that arrive (413 once they pass it), not to the size announced"))),
    # 9 Connection management
    Case("9.3-http11-persists", b"GET /x HTTP/1.1\r\n" + H + b"\r\nGET /y HTTP/1.1\r\n" + H
         + b"\r\n", serve=Served(2, paths=["/x", "/y"]), source="RFC 9112 9.3"),
    Case("9.3-close-token-among-others", b"GET /x HTTP/1.1\r\n" + H
         + b"Connection: keep-alive, close\r\n\r\nGET /never HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"], close=True), source="RFC 9112 9.3 / 9.6"),
    Case("9.6-close-case-insensitive", b"GET /x HTTP/1.1\r\n" + H
         + b"Connection: CLOSE\r\n\r\nGET /never HTTP/1.1\r\n" + H + b"\r\n",
         serve=Served(1, paths=["/x"], close=True), source="RFC 9110 7.6.1 (tokens: any case)"),
]


def _value(seen, name, value):
    assert seen[0].header(name) == value, seen[0].header(name)


@pytest.mark.parametrize("case", case_params(CASES))
def test_rfc9112(recorded, case):
    run_case(recorded.port, recorded.recorder, case)


@pytest.mark.parametrize("count,status", [(10, 200), (11, 431)])
def test_header_count_limit(recorded_with, count, status):
    """max_request_headers (Racket's safety limit): over it, 431 and close."""
    server = recorded_with(safety_limits=make_safety_limits(max_request_headers=10))
    fields = H + b"".join(b"X-%d: v\r\n" % i for i in range(count - 1))
    data = b"GET /x HTTP/1.1\r\n" + fields + b"\r\nGET /never HTTP/1.1\r\n" + H + b"\r\n"
    case = (Case("within", data, serve=Served(2)) if status == 200
            else Case("over", data, reject=Rejected((431, 400))))
    run_case(server.port, server.recorder, case)
