"""llhttp's request corpus (test/request/*.md), translated into what a server must do.

Each case is one request of llhttp's markdown tests that applies to a server receiving
requests in strict mode (files invalid, connection, content-length, transfer-encoding,
pipelining, method, uri, sample, and the strict cases of the lenient-* files).  The bytes
are the test data of the cited case (``with_host`` adds the Host an HTTP/1.1 server
requires where the case has none; a few incomplete inputs get the bytes that complete
them, marked).  Translation:

* llhttp reports an error -> ``400`` (501 for a transfer coding the server does not
  implement, 505 for a version it does not serve) and the connection closes; nothing
  the application runs;
* llhttp parses it -> the application runs it, with exactly the body llhttp saw;
* ``Connection: close`` or HTTP/1.0 -> the server closes after the answer;
* llhttp pauses on Upgrade -> no dispatcher takes the upgrade here, so it is an
  ordinary request; what follows is not executed when incomplete;
* not HTTP (ICE/RTSP, HTTP/0.9, the HTTP/2 preface) -> 400 or 505;
* CONNECT (this is not a proxy) -> served, or 400/405/501 and a close.
"""
from __future__ import annotations

import pytest

from tests.http.rawhttp import Case, Rejected, Served, case_params, run_case, with_host


def header_is(name: str, value_latin1: str):
    """A check: the application saw header ``name`` with these bytes (latin-1)."""

    def check(seen, replies):
        got = seen[0].header(name)
        assert got is not None and got.encode("latin-1") == value_latin1.encode("latin-1"), got

    return check


def host_is(host: str):
    """A check: the application saw ``host`` as the request's Host (from the URL)."""

    def check(seen, replies):
        assert seen[0].host == host, seen[0].host

    return check


LLHTTP = [
    Case('connection-setting-flag',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: keep-alive\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/connection.md"
                 " \"Setting flag\""
                 " (strict: parsed)")),
    Case('connection-restarting-when-keep-alive-is-explicitly',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: keep-alive\r\n'
             b'\r\n'
             b'PUT /url HTTP/1.1\r\n'
             b'Connection: keep-alive\r\n'
             b'\r\n'),
         serve=Served(2),
         source=("llhttp test/request/connection.md"
                 " \"Restarting when keep-alive is explicitly\""
                 " (strict: parsed)")),
    Case('connection-no-restart-when-keep-alive-is-off-1-0',
         with_host(b'PUT /url HTTP/1.0\r\n'
             b'\r\n'
             b'PUT /url HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, close=True),
         source=("llhttp test/request/connection.md"
                 " \"No restart when keep-alive is off (1.0)\""
                 " (strict: Data after `Connection: close`)")),
    Case('connection-crlf-between-requests-implicit-keep-alive',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'Content-Type: application/x-www-form-urlencoded\r\n'
             b'Content-Length: 4\r\n'
             b'\r\n'
             b'q=42\r\n'
             b'\r\n'
             b'GET / HTTP/1.1'),
         serve=Served(1, bodies=[b'q=42']), cut=True,
         source=("llhttp test/request/connection.md"
                 " \"CRLF between requests, implicit `keep-alive`\""
                 " (strict: parsed)")),
    Case('connection-not-treating-r-as',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: keep\ralive\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/connection.md"
                 " \"Not treating `\\r` as `-`\""
                 " (strict: Missing expected LF after header value)")),
    Case('connection-setting-flag-on-close',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: close\r\n'
             b'\r\n'),
         serve=Served(1, close=True),
         source=("llhttp test/request/connection.md"
                 " \"Setting flag on `close`\""
                 " (strict: parsed)")),
    Case('connection-setting-flag-on-close-followed-by-tab',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: close\t\r\n'
             b'\r\n'),
         serve=Served(1, close=True),
         source=("llhttp test/request/connection.md"
                 " \"Setting flag on `close` followed by tab\""
                 " (strict: parsed)")),
    Case('connection-crlf-between-requests-explicit-close',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'Content-Type: application/x-www-form-urlencoded\r\n'
             b'Content-Length: 4\r\n'
             b'Connection: close\r\n'
             b'\r\n'
             b'q=42\r\n'
             b'\r\n'
             b'GET / HTTP/1.1'),
         serve=Served(1, bodies=[b'q=42'], close=True),
         source=("llhttp test/request/connection.md"
                 " \"CRLF between requests, explicit `close`\""
                 " (strict: Data after `Connection: close`)")),
    Case('connection-crlf-between-requests-explicit-close-followed-by-tab',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'Content-Type: application/x-www-form-urlencoded\r\n'
             b'Content-Length: 4\r\n'
             b'Connection: close\t\r\n'
             b'\r\n'
             b'q=42\r\n'
             b'\r\n'
             b'GET / HTTP/1.1'),
         serve=Served(1, bodies=[b'q=42'], close=True),
         source=("llhttp test/request/connection.md"
                 " \"CRLF between requests, explicit `close` followed by tab\""
                 " (strict: Data after `Connection: close`)")),
    Case('connection-sample',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: close, token, upgrade, token, keep-alive\r\n'
             b'\r\n'),
         serve=Served(1, close=True),
         source=("llhttp test/request/connection.md"
                 " \"Sample\""
                 " (strict: parsed)")),
    Case('connection-multiple-tokens-with-folding-and-lws',
         with_host(b'GET /demo HTTP/1.1\r\n'
             b'Connection: keep-alive, upgrade\r\n'
             b'Upgrade: WebSocket\r\n'
             b'\r\n'
             b'Hot diggity dogg'),
         serve=Served(1), cut=True,
         source=("llhttp test/request/connection.md"
                 " \"Multiple tokens with folding and LWS\""
                 " (strict: parsed)")),
    Case('connection-invalid-whitespace-token-with-connection-header-field',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection : upgrade\r\n'
             b'Content-Length: 4\r\n'
             b'Upgrade: ws\r\n'
             b'\r\n'
             b'abcdefgh'),
         reject=Rejected((400,)),
         source=("llhttp test/request/connection.md"
                 " \"Invalid whitespace token with `Connection` header field\""
                 " (strict: Invalid header field char)")),
    Case('connection-setting-a-flag-and-pausing',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: upgrade\r\n'
             b'Upgrade: ws\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/connection.md"
                 " \"Setting a flag and pausing\""
                 " (strict: parsed)")),
    Case('connection-emitting-part-of-body-and-pausing',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: upgrade\r\n'
             b'Content-Length: 4\r\n'
             b'Upgrade: ws\r\n'
             b'\r\n'
             b'abcdefgh'),
         serve=Served(1, bodies=[b'abcd']), cut=True,
         source=("llhttp test/request/connection.md"
                 " \"Emitting part of body and pausing\""
                 " (strict: parsed)")),
    Case('connection-upgrade-get-request',
         with_host(b'GET /demo HTTP/1.1\r\n'
             b'Host: example.com\r\n'
             b'Connection: Upgrade\r\n'
             b'Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n'
             b'Sec-WebSocket-Protocol: sample\r\n'
             b'Upgrade: WebSocket\r\n'
             b'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n'
             b'Origin: http://example.com\r\n'
             b'\r\n'
             b'Hot diggity dogg'),
         serve=Served(1), cut=True,
         source=("llhttp test/request/connection.md"
                 " \"Upgrade GET request\""
                 " (strict: parsed)")),
    Case('connection-upgrade-post-request',
         with_host(b'POST /demo HTTP/1.1\r\n'
             b'Host: example.com\r\n'
             b'Connection: Upgrade\r\n'
             b'Upgrade: HTTP/2.0\r\n'
             b'Content-Length: 15\r\n'
             b'\r\n'
             b'sweet post bodyHot diggity dogg'),
         serve=Served(1, bodies=[b'sweet post body']), cut=True,
         source=("llhttp test/request/connection.md"
                 " \"Upgrade POST request\""
                 " (strict: parsed)")),
    Case('content-length-content-length-with-zeroes',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 003\r\n'
             b'\r\n'
             b'abc'),
         serve=Served(1, bodies=[b'abc']),
         source=("llhttp test/request/content-length.md"
                 " \"`Content-Length` with zeroes\""
                 " (strict: parsed)")),
    Case('content-length-content-length-with-follow-up-headers',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 003\r\n'
             b'Ohai: world\r\n'
             b'\r\n'
             b'abc'),
         serve=Served(1, bodies=[b'abc']),
         source=("llhttp test/request/content-length.md"
                 " \"`Content-Length` with follow-up headers\""
                 " (strict: parsed)")),
    Case('content-length-error-on-content-length-overflow',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 1000000000000000000000\r\n'),
         reject=Rejected((400, 413)),
         source=("llhttp test/request/content-length.md"
                 " \"Error on `Content-Length` overflow\""
                 " (strict: Content-Length overflow)")),
    Case('content-length-error-on-duplicate-content-length',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 1\r\n'
             b'Content-Length: 2\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Error on duplicate `Content-Length`\""
                 " (strict: Duplicate Content-Length)")),
    Case('content-length-error-on-simultaneous-content-length-and-transfer-encoding-identity',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 1\r\n'
             b'Transfer-Encoding: identity\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Error on simultaneous `Content-Length` and `Transfer-Encoding: identity`\""
                 " (strict: Transfer-Encoding can't be present with Content-Length)")),
    Case('content-length-invalid-whitespace-token-with-content-length-header-field',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Connection: upgrade\r\n'
             b'Content-Length : 4\r\n'
             b'Upgrade: ws\r\n'
             b'\r\n'
             b'abcdefgh'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Invalid whitespace token with `Content-Length` header field\""
                 " (strict: Invalid header field char)")),
    Case('content-length-funky-content-length-with-body',
         (b'GET /get_funky_content_length_body_hello HTTP/1.0\r\n'
             b'conTENT-Length: 5\r\n'
             b'\r\n'
             b'HELLO'),
         serve=Served(1, bodies=[b'HELLO'], close=True),
         source=("llhttp test/request/content-length.md"
                 " \"Funky `Content-Length` with body\""
                 " (strict: parsed)")),
    Case('content-length-spaces-in-content-length-surrounding',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Content-Length:  42 \r\n'
             b'\r\n'
             b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),
         serve=Served(1, bodies=[b'x' * 42]),
         source=("llhttp test/request/content-length.md"
                 " \"Spaces in `Content-Length` (surrounding)\""
                 " (strict: parsed)")),
    Case('content-length-tabs-in-content-length-surrounding',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Content-Length:\t42\t  \r\n'
             b'\r\n'
             b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),
         serve=Served(1, bodies=[b'x' * 42]),
         source=("llhttp test/request/content-length.md"
                 " \"Tabs in `Content-Length` (surrounding)\""
                 " (strict: parsed)")),
    Case('content-length-spaces-in-content-length-2',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Content-Length: 4 2\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Spaces in `Content-Length` #2\""
                 " (strict: Invalid character in Content-Length)")),
    Case('content-length-spaces-in-content-length-3',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Content-Length: 13 37\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Spaces in `Content-Length` #3\""
                 " (strict: Invalid character in Content-Length)")),
    Case('content-length-empty-content-length',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Content-Length:\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Empty `Content-Length`\""
                 " (strict: Empty Content-Length)")),
    Case('content-length-content-length-with-cr-instead-of-dash',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content\rLength: 003\r\n'
             b'\r\n'
             b'abc'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"`Content-Length` with CR instead of dash\""
                 " (strict: Invalid header token)")),
    Case('content-length-missing-crlf-crlf-before-body',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Content-Length: 3\r\n'
             b'\rabc'),
         reject=Rejected((400,)),
         source=("llhttp test/request/content-length.md"
                 " \"Missing CRLF-CRLF before body\""
                 " (strict: Expected LF after headers)")),
    Case('invalid-ice-protocol-and-get-method',
         (b'GET /music/sweet/music ICE/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"ICE protocol and GET method\""
                 " (strict: Expected SOURCE method for ICE/x.x request)")),
    Case('invalid-ice-protocol-but-not-really',
         (b'GET /music/sweet/music IHTTP/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"ICE protocol, but not really\""
                 " (strict: Expected HTTP/, RTSP/ or ICE/)")),
    Case('invalid-rtsp-protocol-and-put-method',
         (b'PUT /music/sweet/music RTSP/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"RTSP protocol and PUT method\""
                 " (strict: Invalid method for RTSP/x.x request)")),
    Case('invalid-http-protocol-and-announce-method',
         (b'ANNOUNCE /music/sweet/music HTTP/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"HTTP protocol and ANNOUNCE method\""
                 " (strict: Invalid method for HTTP/x.x request)")),
    Case('invalid-headers-separated-by-cr',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Foo: 1\rBar: 2\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Headers separated by CR\""
                 " (strict: Missing expected LF after header value)")),
    Case('invalid-headers-separated-by-lf',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: localhost:5000\r\n'
             b'x:x\nTransfer-Encoding: chunked\r\n'
             b'\r\n'
             b'1\r\n'
             b'A\r\n'
             b'0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Headers separated by LF\""
                 " (strict: Missing expected CR after header value)")),
    Case('invalid-headers-separated-by-dummy-characters',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Connection: close\r\n'
             b'Host: a\r\n'
             b'\rZGET /evil: HTTP/1.1\r\n'
             b'Host: a\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Headers separated by dummy characters\""
                 " (strict: Expected LF after headers)")),
    Case('invalid-empty-headers-separated-by-cr',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Connection: Close\r\n'
             b'Host: localhost:5000\r\n'
             b'x:\rTransfer-Encoding: chunked\r\n'
             b'\r\n'
             b'1\r\n'
             b'A\r\n'
             b'0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Empty headers separated by CR\""
                 " (strict: Expected LF after CR)")),
    Case('invalid-empty-headers-separated-by-lf',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: localhost:5000\r\n'
             b'x:\nTransfer-Encoding: chunked\r\n'
             b'\r\n'
             b'1\r\n'
             b'A\r\n'
             b'0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Empty headers separated by LF\""
                 " (strict: Invalid header value char)")),
    Case('invalid-invalid-header-token-1',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Fo@: Failure\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Invalid header token #1\""
                 " (strict: Invalid header token)")),
    Case('invalid-invalid-header-token-2',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Foo\x01\test: Bar\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Invalid header token #2\""
                 " (strict: Invalid header token)")),
    Case('invalid-invalid-header-token-3',
         with_host(b'GET / HTTP/1.1\r\n'
             b': Bar\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Invalid header token #3\""
                 " (strict: Invalid header token)")),
    Case('invalid-invalid-method',
         with_host(b'MKCOLA / HTTP/1.1\r\n'
             b'\r\n'),
         # a well-formed line with a method llhttp does not know: RFC 9110 9.1's 501
         reject=Rejected((400, 501)),
         source=("llhttp test/request/invalid.md"
                 " \"Invalid method\""
                 " (strict: Expected space after method)")),
    Case('invalid-illegal-header-field-name-line-folding',
         with_host(b'GET / HTTP/1.1\r\n'
             b'name\r\n'
             b' : value\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Illegal header field name line folding\""
                 " (strict: Invalid header token)")),
    Case('invalid-corrupted-connection-header',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'Connection\r\x1b5\xd5eep-Alive\r\n'
             b'Accept-Encoding: gzip\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Corrupted Connection header\""
                 " (strict: Invalid header token)")),
    Case('invalid-corrupted-header-name',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'X-Some-Header\r\x1b5\xd5eep-Alive\r\n'
             b'Accept-Encoding: gzip\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Corrupted header name\""
                 " (strict: Invalid header token)")),
    Case('invalid-missing-cr-between-headers',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'Dummy: x\nContent-Length: 23\r\n'
             b'\r\n'
             b'GET / HTTP/1.1\r\n'
             b'Dummy: GET /admin HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Missing CR between headers\""
                 " (strict: Missing expected CR after header value)")),
    Case('invalid-invalid-http-version',
         (b'GET / HTTP/5.6'),
         reject=Rejected((400, 505)), cut=True,
         source=("llhttp test/request/invalid.md"
                 " \"Invalid HTTP version\""
                 " (strict: Invalid HTTP version)")),
    Case('invalid-invalid-space-after-start-line',
         with_host(b'GET / HTTP/1.1\r\n'
             b' Host: foo'),
         reject=Rejected((400,)), cut=True,
         source=("llhttp test/request/invalid.md"
                 " \"Invalid space after start line\""
                 " (strict: Unexpected space after start line)")),
    Case('invalid-only-lfs-present',
         (b'POST / HTTP/1.1\nTransfer-Encoding: chunked\nTrailer: Baz\r\n'
             b'Foo: abc\nBar: def\n\n1\nA\n1;abc\nB\n1;def=ghi\nC\n1;jkl="mno"\nD\n0\n\n'
             b'Baz: ghi\n\n\\'),
         reject=Rejected((400,)), cut=True,
         source=("llhttp test/request/invalid.md"
                 " \"Only LFs present\""
                 " (strict: Expected CRLF after version)")),
    Case('invalid-spaces-before-headers',
         with_host(b'POST /hello HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'Foo: bar\r\n'
             b' Content-Length: 38\r\n'
             b'\r\n'
             b'GET /bye HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/invalid.md"
                 " \"Spaces before headers\""
                 " (strict: Unexpected whitespace after header value)")),
    Case('lenient-header-value-relaxed-control-char-in-header-value-strict',
         with_host(b'GET /url HTTP/1.1\r\n'
             b'Header1: hello\x0cworld\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/lenient-header-value-relaxed.md"
                 " \"Control char in header value (strict)\""
                 " (strict: Invalid header value char)")),
    Case('lenient-headers-header-value',
         with_host(b'GET /url HTTP/1.1\r\n'
             b'Header1: \x0c\r\n'
             b'\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/lenient-headers.md"
                 " \"Header value\""
                 " (strict: Invalid header value char)")),
    Case('method-report-request',
         with_host(b'REPORT /test HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"REPORT request\""
                 " (strict: parsed)")),
    Case('method-connect-request',
         (b'CONNECT 0-home0.netscape.com:443 HTTP/1.0\r\n'
             b'User-agent: Mozilla/1.1N\r\n'
             b'Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n'
             b'\r\n'
             b'some data\r\n'
             b'and yet even more data'),
         serve=Served(1), reject=Rejected((400, 405, 501)), cut=True,
         source=("llhttp test/request/method.md"
                 " \"CONNECT request\""
                 " (strict: parsed)")),
    Case('method-connect-request-with-caps',
         (b'CONNECT HOME0.NETSCAPE.COM:443 HTTP/1.0\r\n'
             b'User-agent: Mozilla/1.1N\r\n'
             b'Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n'
             b'\r\n'),
         serve=Served(1), reject=Rejected((400, 405, 501)),
         source=("llhttp test/request/method.md"
                 " \"CONNECT request with CAPS\""
                 " (strict: parsed)")),
    Case('method-connect-with-body',
         (b'CONNECT foo.bar.com:443 HTTP/1.0\r\n'
             b'User-agent: Mozilla/1.1N\r\n'
             b'Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n'
             b'Content-Length: 10\r\n'
             b'\r\n'
             b'blarfcicle"'),
         serve=Served(1, bodies=[b'blarfcicle']), reject=Rejected((400, 405, 501)), cut=True,
         source=("llhttp test/request/method.md"
                 " \"CONNECT with body\""
                 " (strict: parsed)")),
    Case('method-m-search-request',
         with_host(b'M-SEARCH * HTTP/1.1\r\n'
             b'HOST: 239.255.255.250:1900\r\n'
             b'MAN: "ssdp:discover"\r\n'
             b'ST: "ssdp:all"\r\n'
             b'\r\n'),
         serve=Served(1), reject=Rejected((400,)),
         source=("llhttp test/request/method.md"
                 " \"M-SEARCH request\""
                 " (strict: parsed)")),
    Case('method-patch-request',
         with_host(b'PATCH /file.txt HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'Content-Type: application/example\r\n'
             b'If-Match: "e0023aa4e"\r\n'
             b'Content-Length: 10\r\n'
             b'\r\n'
             b'cccccccccc'),
         serve=Served(1, bodies=[b'cccccccccc']),
         source=("llhttp test/request/method.md"
                 " \"PATCH request\""
                 " (strict: parsed)")),
    Case('method-purge-request',
         with_host(b'PURGE /file.txt HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"PURGE request\""
                 " (strict: parsed)")),
    Case('method-search-request',
         with_host(b'SEARCH / HTTP/1.1\r\n'
             b'Host: www.example.com\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"SEARCH request\""
                 " (strict: parsed)")),
    Case('method-link-request',
         with_host(b'LINK /images/my_dog.jpg HTTP/1.1\r\n'
             b'Host: example.com\r\n'
             b'Link: <http://example.com/profiles/joe>; rel="tag"\r\n'
             b'Link: <http://example.com/profiles/sally>; rel="tag"\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"LINK request\""
                 " (strict: parsed)")),
    Case('method-link-request-2',
         with_host(b'UNLINK /images/my_dog.jpg HTTP/1.1\r\n'
             b'Host: example.com\r\n'
             b'Link: <http://example.com/profiles/sally>; rel="tag"\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"LINK request\""
                 " (strict: parsed)")),
    Case('method-source-request',
         with_host(b'SOURCE /music/sweet/music HTTP/1.1\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/method.md"
                 " \"SOURCE request\""
                 " (strict: parsed)")),
    Case('method-source-request-with-ice',
         (b'SOURCE /music/sweet/music ICE/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400, 505)),
         source=("llhttp test/request/method.md"
                 " \"SOURCE request with ICE\""
                 " (strict: parsed)")),
    Case('method-options-request-with-rtsp',
         (b'OPTIONS /music/sweet/music RTSP/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400, 505)),
         source=("llhttp test/request/method.md"
                 " \"OPTIONS request with RTSP\""
                 " (strict: parsed)")),
    Case('method-announce-request-with-rtsp',
         (b'ANNOUNCE /music/sweet/music RTSP/1.0\r\n'
             b'Host: example.com\r\n'
             b'\r\n'),
         reject=Rejected((400, 505)),
         source=("llhttp test/request/method.md"
                 " \"ANNOUNCE request with RTSP\""
                 " (strict: parsed)")),
    Case('method-pri-request-http2',
         with_host(b'PRI * HTTP/1.1\r\n'
             b'\r\n'
             b'SM\r\n'
             b'\r\n'),
         reject=Rejected((400, 405, 505)),
         source=("llhttp test/request/method.md"
                 " \"PRI request HTTP2\""
                 " (strict: parsed)")),
    Case('method-query-request',
         with_host(b'QUERY /contacts HTTP/1.1\r\n'
             b'Host: example.org\r\n'
             b'Content-Type: example/query\r\n'
             b'Accept: text/csv\r\n'
             b'Content-Length: 41\r\n'
             b'\r\n'
             b'select surname, givenname, email limit 10'),
         serve=Served(1, bodies=[b'select surname, givenname, email limit 10']),
         source=("llhttp test/request/method.md"
                 " \"QUERY request\""
                 " (strict: parsed)")),
    Case('pipelining-should-parse-multiple-events',
         with_host(b'POST /aaa HTTP/1.1\r\n'
             b'Content-Length: 3\r\n'
             b'\r\n'
             b'AAA\r\n'
             b'PUT /bbb HTTP/1.1\r\n'
             b'Content-Length: 4\r\n'
             b'\r\n'
             b'BBBB\r\n'
             b'PATCH /ccc HTTP/1.1\r\n'
             b'Content-Length: 5\r\n'
             b'\r\n'
             b'CCCC'),
         serve=Served(2, bodies=[b'AAA', b'BBBB'], paths=['/aaa', '/bbb']), cut=True,
         source=("llhttp test/request/pipelining.md"
                 " \"Should parse multiple events\""
                 " (strict: parsed)")),
    Case('sample-simple-request',
         with_host(b'OPTIONS /url HTTP/1.1\r\n'
             b'Header1: Value1\r\n'
             b'Header2:\t Value2\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"Simple request\""
                 " (strict: parsed)")),
    Case('sample-request-with-method-starting-with-h',
         with_host(b'HEAD /url HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1), head=True,
         source=("llhttp test/request/sample.md"
                 " \"Request with method starting with `H`\""
                 " (strict: parsed)")),
    Case('sample-curl-get',
         with_host(b'GET /test HTTP/1.1\r\n'
             b'User-Agent: curl/7.18.0 (i486-pc-linux-gnu) libcurl/7.18.0 O'
             b'penSSL/0.9.8g zlib/1.2.3.3 libidn/1.1\r\n'
             b'Host: 0.0.0.0=5000\r\n'
             b'Accept: */*\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"curl GET\""
                 " (strict: parsed)")),
    Case('sample-firefox-get',
         with_host(b'GET /favicon.ico HTTP/1.1\r\n'
             b'Host: 0.0.0.0=5000\r\n'
             b'User-Agent: Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9) '
             b'Gecko/2008061015 Firefox/3.0\r\n'
             b'Accept: text/html,application/xhtml+xml,application/xml;q=0.'
             b'9,*/*;q=0.8\r\n'
             b'Accept-Language: en-us,en;q=0.5\r\n'
             b'Accept-Encoding: gzip,deflate\r\n'
             b'Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n'
             b'Keep-Alive: 300\r\n'
             b'Connection: keep-alive\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"Firefox GET\""
                 " (strict: parsed)")),
    Case('sample-dumbpack',
         with_host(b'GET /dumbpack HTTP/1.1\r\n'
             b'aaaaaaaaaaaaa:++++++++++\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"DUMBPACK\""
                 " (strict: parsed)")),
    Case('sample-no-headers-and-no-body',
         with_host(b'GET /get_no_headers_no_body/world HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"No headers and no body\""
                 " (strict: parsed)")),
    Case('sample-one-header-and-no-body',
         with_host(b'GET /get_one_header_no_body HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/sample.md"
                 " \"One header and no body\""
                 " (strict: parsed)")),
    Case('sample-apache-bench-get',
         (b'GET /test HTTP/1.0\r\n'
             b'Host: 0.0.0.0:5000\r\n'
             b'User-Agent: ApacheBench/2.3\r\n'
             b'Accept: */*\r\n'
             b'\r\n'),
         serve=Served(1, close=True),
         source=("llhttp test/request/sample.md"
                 " \"Apache bench GET\""
                 " (strict: parsed)")),
    Case('sample-prefix-newline',
         with_host(b'\r\n'
             b'GET /test HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/test']),
         source=("llhttp test/request/sample.md"
                 " \"Prefix newline\""
                 " (strict: parsed)")),
    Case('sample-no-http-version',
         (b'GET /\r\n'
             b'\r\n'),
         reject=Rejected((400, 505)),
         source=("llhttp test/request/sample.md"
                 " \"No HTTP version\""
                 " (strict: parsed)")),
    Case('sample-line-folding-in-header-value-with-lf',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Line1:   abc\n\tdef\n ghi\n\t\tjkl\n  mno \n\t \tqrs\nLine2: \t line2\t\nL'
             b'ine3:\n line3\nLine4: \n \nConnection:\n close\n\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/sample.md"
                 " \"Line folding in header value with LF\""
                 " (strict: Missing expected CR after header value)")),
    Case('sample-no-lf-after-cr',
         (b'GET / HTTP/1.1\rLine: 1\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/sample.md"
                 " \"No LF after CR\""
                 " (strict: Expected CRLF after version)")),
    Case('sample-request-starting-with-crlf',
         with_host(b'\r\n'
             b'GET /url HTTP/1.1\r\n'
             b'Header1: Value1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/url']),
         source=("llhttp test/request/sample.md"
                 " \"Request starting with CRLF\""
                 " (strict: parsed)")),
    Case('sample-extended-characters',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Test: D\xc3\xbcsseldorf\r\n'
             b'\r\n'),
         serve=Served(1, check=header_is('Test', 'D\xc3\xbcsseldorf')),
         source=("llhttp test/request/sample.md"
                 " \"Extended Characters\""
                 " (strict: parsed)")),
    Case('sample-255-ascii-in-header-value',
         with_host(b'OPTIONS /url HTTP/1.1\r\n'
             b'Header1: Value1\r\n'
             b'Header2: \xffValue2\r\n'
             b'\r\n'),
         serve=Served(1, check=header_is('Header2', '\xffValue2')),
         source=("llhttp test/request/sample.md"
                 " \"255 ASCII in header value\""
                 " (strict: parsed)")),
    Case('transfer-encoding-parsing-and-setting-flag',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'),
         cut=True,
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Parsing and setting flag\""
                 " (strict: parsed)")),
    Case('transfer-encoding-parse-chunks-with-lowercase-size',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'a\r\n'
             b'0123456789\r\n'
             b'0\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'0123456789']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Parse chunks with lowercase size\""
                 " (strict: parsed)")),
    Case('transfer-encoding-parse-chunks-with-uppercase-size',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'A\r\n'
             b'0123456789\r\n'
             b'0\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'0123456789']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Parse chunks with uppercase size\""
                 " (strict: parsed)")),
    Case('transfer-encoding-post-with-transfer-encoding-chunked',
         with_host(b'POST /post_chunked_all_your_base HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'1e\r\n'
             b'all your base are belong to us\r\n'
             b'0\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'all your base are belong to us']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `Transfer-Encoding: chunked`\""
                 " (strict: parsed)")),
    Case('transfer-encoding-two-chunks-and-triple-zero-prefixed-end-chunk',
         with_host(b'POST /two_chunks_mult_zero_end HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5\r\n'
             b'hello\r\n'
             b'6\r\n'
             b' world\r\n'
             b'000\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'hello world']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Two chunks and triple zero prefixed end chunk\""
                 " (strict: parsed)")),
    Case('transfer-encoding-trailing-headers',
         with_host(b'POST /chunked_w_trailing_headers HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5\r\n'
             b'hello\r\n'
             b'6\r\n'
             b' world\r\n'
             b'0\r\n'
             b'Vary: *\r\n'
             b'Content-Type: text/plain\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'hello world']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Trailing headers\""
                 " (strict: parsed)")),
    Case('transfer-encoding-chunk-extensions',
         with_host(b'POST /chunked_w_unicorns_after_length HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue'
             b'\r\n'
             b'hello\r\n'
             b'6;blahblah;blah\r\n'
             b' world\r\n'
             b'0\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'hello world']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Chunk extensions\""
                 " (strict: parsed)")),
    Case('transfer-encoding-no-semicolon-before-chunk-extensions',
         with_host(b'POST /chunked_w_unicorns_after_length HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'Transfer-encoding: chunked\r\n'
             b'\r\n'
             b'2 erfrferferf\r\n'
             b'aa\r\n'
             b'0 rrrr\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"No semicolon before chunk extensions\""
                 " (strict: Invalid character in chunk size)")),
    Case('transfer-encoding-no-extension-after-semicolon',
         with_host(b'POST /chunked_w_unicorns_after_length HTTP/1.1\r\n'
             b'Host: localhost\r\n'
             b'Transfer-encoding: chunked\r\n'
             b'\r\n'
             b'2;\r\n'
             b'aa\r\n'
             b'0\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"No extension after semicolon\""
                 " (strict: Invalid character in chunk extensions)")),
    Case('transfer-encoding-chunk-extensions-quoting',
         with_host(b'POST /chunked_w_unicorns_after_length HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5;ilovew3="I \\"love\\"; \\\\extensions\\\\";somuchlove="arethesep'
             b'arametersfor";blah;foo=bar\r\n'
             b'hello\r\n'
             b'6;blahblah;blah\r\n'
             b' world\r\n'
             b'0\r\n'
             b'\r\n'),
         serve=Served(1, bodies=[b'hello world']),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Chunk extensions quoting\""
                 " (strict: parsed)")),
    Case('transfer-encoding-unbalanced-chunk-extensions-quoting',
         with_host(b'POST /chunked_w_unicorns_after_length HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5;ilovew3="abc";somuchlove="def; ghi\r\n'
             b'hello\r\n'
             b'6;blahblah;blah\r\n'
             b' world\r\n'
             b'0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Unbalanced chunk extensions quoting\""
                 " (strict: Invalid character in chunk extensions quoted value)")),
    Case('transfer-encoding-ignoring-pigeons',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: pigeons\r\n'
             b'\r\n'),
         reject=Rejected((400, 501)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Ignoring `pigeons`\""
                 " (strict: Request has invalid `Transfer-Encoding`)")),
    Case('transfer-encoding-post-with-transfer-encoding-and-content-length',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: identity\r\n'
             b'Content-Length: 5\r\n'
             b'\r\n'
             b'World'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `Transfer-Encoding` and `Content-Length`\""
                 " (strict: Content-Length can't be present with Transfer-Encoding)")),
    Case('transfer-encoding-post-with-empty-transfer-encoding-and-content-length-lenient',
         with_host(b'POST / HTTP/1.1\r\n'
             b'Host: foo\r\n'
             b'Content-Length: 10\r\n'
             b'Transfer-Encoding:\r\n'
             b'Transfer-Encoding:\r\n'
             b'Transfer-Encoding:\r\n'
             b'\r\n'
             b'2\r\n'
             b'AA\r\n'
             b'0'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with empty `Transfer-Encoding` and `Content-Length` (lenient)\""
                 " (strict: Transfer-Encoding can't be present with Content-Length)")),
    Case('transfer-encoding-post-with-chunked-before-other-transfer-coding-names',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: chunked, deflate\r\n'
             b'\r\n'
             b'World'),
         reject=Rejected((400, 501)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `chunked` before other transfer coding names\""
                 " (strict: Invalid `Transfer-Encoding` header value)")),
    Case('transfer-encoding-post-with-chunked-and-duplicate-transfer-encoding',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'Transfer-Encoding: deflate\r\n'
             b'\r\n'
             b'World'),
         reject=Rejected((400, 501)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `chunked` and duplicate transfer-encoding\""
                 " (strict: Invalid `Transfer-Encoding` header value)")),
    Case('transfer-encoding-post-with-chunked-as-last-transfer-encoding',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: deflate, chunked\r\n'
             b'\r\n'
             b'5\r\n'
             b'World\r\n'
             b'0\r\n'
             b'\r\n'),
         reject=Rejected((501,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `chunked` as last transfer-encoding\""
                 " (strict: parsed)")),
    Case('transfer-encoding-post-with-chunked-as-last-transfer-encoding-multiple-headers',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: deflate\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'5\r\n'
             b'World\r\n'
             b'0\r\n'
             b'\r\n'),
         reject=Rejected((501,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `chunked` as last transfer-encoding (multiple headers)\""
                 " (strict: parsed)")),
    Case('transfer-encoding-post-with-chunkedchunked-as-transfer-encoding',
         with_host(b'POST /post_identity_body_world?q=search#hey HTTP/1.1\r\n'
             b'Accept: */*\r\n'
             b'Transfer-Encoding: chunkedchunked\r\n'
             b'\r\n'
             b'5\r\n'
             b'World\r\n'
             b'0\r\n'
             b'\r\n'),
         reject=Rejected((400, 501)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"POST with `chunkedchunked` as transfer-encoding\""
                 " (strict: Request has invalid `Transfer-Encoding`)")),
    Case('transfer-encoding-missing-last-chunk',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'3\r\n'
             b'foo\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Missing last-chunk\""
                 " (strict: Invalid character in chunk size)")),
    Case('transfer-encoding-validate-chunk-parameters',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'3 \n  \r\n'
             b'foo\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Validate chunk parameters\""
                 " (strict: Invalid character in chunk size)")),
    Case('transfer-encoding-chunk-header-not-terminated-by-crlf',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Host: a\r\n'
             b'Connection: close \r\n'
             b'Transfer-Encoding: chunked \r\n'
             b'\r\n'
             b'5\r\r;ABCD\r\n'
             b'34\r\n'
             b'E\r\n'
             b'0\r\n'
             b'\r\n'
             b'GET / HTTP/1.1 \r\n'
             b'Host: a\r\n'
             b'Content-Length: 5\r\n'
             b'\r\n'
             b'0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Chunk header not terminated by CRLF\""
                 " (strict: Expected LF after chunk size)")),
    Case('transfer-encoding-chunk-data-not-terminated-by-crlf',
         with_host(b'GET / HTTP/1.1\r\n'
             b'Host: a\r\n'
             b'Connection: close \r\n'
             b'Transfer-Encoding: chunked \r\n'
             b'\r\n'
             b'5\r\n'
             b'ABCDE0\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Chunk data not terminated by CRLF\""
                 " (strict: Expected LF after chunk data)")),
    Case('transfer-encoding-space-after-chunk-header',
         with_host(b'PUT /url HTTP/1.1\r\n'
             b'Transfer-Encoding: chunked\r\n'
             b'\r\n'
             b'a \r\n'
             b'0123456789\r\n'
             b'0\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/transfer-encoding.md"
                 " \"Space after chunk header\""
                 " (strict: Invalid character in chunk size)")),
    Case('uri-quotes-in-uri',
         with_host(b'GET /with_"lovely"_quotes?foo=\\"bar\\" HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/uri.md"
                 " \"Quotes in URI\""
                 " (strict: parsed)")),
    Case('uri-query-url-with-question-mark',
         with_host(b'GET /test.cgi?foo=bar?baz HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/uri.md"
                 " \"Query URL with question mark\""
                 " (strict: parsed)")),
    Case('uri-host-terminated-by-a-query-string',
         with_host(b'GET http://hypnotoad.org?hail=all HTTP/1.1\r\n'
             b'\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/'], check=host_is('hypnotoad.org')),
         source=("llhttp test/request/uri.md"
                 " \"Host terminated by a query string\""
                 " (strict: parsed)")),
    Case('uri-host-port-terminated-by-a-query-string',
         with_host(b'GET http://hypnotoad.org:1234?hail=all HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/'], check=host_is('hypnotoad.org:1234')),
         source=("llhttp test/request/uri.md"
                 " \"`host:port` terminated by a query string\""
                 " (strict: parsed)")),
    Case('uri-query-url-with-vertical-bar-character',
         with_host(b'GET /test.cgi?query=| HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1),
         source=("llhttp test/request/uri.md"
                 " \"Query URL with vertical bar character\""
                 " (strict: parsed)")),
    Case('uri-host-port-terminated-by-a-space',
         with_host(b'GET http://hypnotoad.org:1234 HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/'], check=host_is('hypnotoad.org:1234')),
         source=("llhttp test/request/uri.md"
                 " \"`host:port` terminated by a space\""
                 " (strict: parsed)")),
    Case('uri-disallow-utf-8-in-uri-path-in-strict-mode',
         with_host(b'GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1#narf HTTP/1.1\r\n'
             b'Host: github.com\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/uri.md"
                 " \"Disallow UTF-8 in URI path in strict mode\""
                 " (strict: Invalid char in url path)")),
    Case('uri-fragment-in-uri',
         with_host(b'GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/forums/1/topics/2375']), reject=Rejected((400,)),
         source=("llhttp test/request/uri.md"
                 " \"Fragment in URI\""
                 " (strict: parsed)")),
    Case('uri-underscore-in-hostname',
         (b'CONNECT home_0.netscape.com:443 HTTP/1.0\r\n'
             b'User-agent: Mozilla/1.1N\r\n'
             b'Proxy-authorization: basic aGVsbG86d29ybGQ=\r\n'
             b'\r\n'),
         serve=Served(1), reject=Rejected((400, 405, 501)),
         source=("llhttp test/request/uri.md"
                 " \"Underscore in hostname\""
                 " (strict: parsed)")),
    Case('uri-host-port-and-basic-auth',
         with_host(b'GET http://a%12:b!&*$@hypnotoad.org:1234/toto HTTP/1.1\r\n'
             b'\r\n'),
         serve=Served(1, paths=['/toto']), reject=Rejected((400,)),
         source=("llhttp test/request/uri.md"
                 " \"`host:port` and basic auth\""
                 " (strict: parsed)")),
    Case('uri-space-in-uri',
         with_host(b'GET /foo bar/ HTTP/1.1\r\n'
             b'\r\n'),
         reject=Rejected((400,)),
         source=("llhttp test/request/uri.md"
                 " \"Space in URI\""
                 " (strict: Expected HTTP/, RTSP/ or ICE/)")),
]


@pytest.mark.parametrize("case", case_params(LLHTTP))
def test_llhttp_case(recorded, case):
    run_case(recorded.port, recorded.recorder, case)
