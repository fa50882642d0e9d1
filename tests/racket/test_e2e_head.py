"""Port of web-server-test/tests/web-server/e2e/head: HEAD answers carry the headers of
GET and no body (checked on the raw bytes: HTTP clients drop a HEAD body silently)."""
from __future__ import annotations

from rawhttp import Conn, parse_reply

from servlets import dispatch_servlet, response_output


def hello(request):
    return response_output(lambda out: out.write("hello\n"), headers=[("X-Example", "Found")])


def _request(port: int, method: bytes) -> tuple:
    with Conn(port) as conn:
        conn.send(method + b" / HTTP/1.1\r\nHost: a\r\n\r\n")
        conn.shut()
        closed = conn.closes(within=5)
    raw = conn.buf
    reply, used = parse_reply(raw, head=(method == b"HEAD"), eof=True)
    return reply, raw[used:], closed


def test_head_requests_must_not_have_a_body(served):
    port = int(served(dispatch_servlet(hello)).rsplit(":", 1)[1])
    get, rest, closed = _request(port, b"GET")
    assert get.status == 200 and get.get("X-Example") == b"Found"
    assert get.chunked and get.body == b"hello\n" and rest == b"" and closed
    head, rest, closed = _request(port, b"HEAD")
    assert head.status == 200 and head.get("X-Example") == b"Found"
    assert rest == b"", f"HEAD answered with a body: {rest!r}"
    assert head.get("Content-Length") in (None, b"6")
