"""Request framing over real sockets: keep-alive, pipelining, HTTP/1.0, Expect:
100-continue, body limits, trailers against the header limits, upgrades no dispatcher
takes, and a request body that stays readable after a dispatcher declined.

Sources: issue 12 ("The engine must do"), RFC 9112 (sections cited per test).
"""
from __future__ import annotations

import gevent
import pytest

from dispatch import filter, sequencer
from dispatch.core import next_dispatcher
from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_full
from tests.http.rawhttp import Case, Conn, Recorder, Rejected, Served, case_params, run_case

H = b"Host: a\r\n"
MIB = 1024 * 1024


def get(path: bytes, extra: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    return b"GET " + path + b" " + version + b"\r\n" + H + extra + b"\r\n"


def post(path: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\n" + H + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def chunked(path: bytes, pieces: list, trailers: bytes = b"", extra: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    return (b"POST " + path + b" HTTP/1.1\r\n" + H + extra
            + b"Transfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n" + trailers + b"\r\n")


# -- keep-alive and pipelining -----------------------------------------------------------

def test_keep_alive_serves_requests_one_after_another(recorded):
    with Conn(recorded.port) as conn:
        for i in range(5):
            conn.send(get(b"/k%d" % i))
            reply = conn.reply()
            assert reply.status == 200 and reply.body == b"GET /k%d 0" % i
        assert not conn.closes(within=0.2), "an HTTP/1.1 connection closed without a reason"
    assert [s.path for s in recorded.seen] == [f"/k{i}" for i in range(5)]


PIPELINE = (get(b"/1") + post(b"/2", b"two") + chunked(b"/3", [b"thr", b"ee"])
            + get(b"/4") + post(b"/5", b"") + chunked(b"/6", [b"x" * 300], b"T: 1\r\n")
            + b"HEAD /7 HTTP/1.1\r\n" + H + b"\r\n" + get(b"/8"))


def test_pipelined_requests_are_answered_in_order(recorded):
    with Conn(recorded.port) as conn:
        conn.send(PIPELINE)
        replies = [conn.reply(head=(i == 6)) for i in range(8)]
    assert [r.status for r in replies] == [200] * 8
    bodies = [r.body for r in replies]
    assert bodies == [b"GET /1 0", b"POST /2 3", b"POST /3 5", b"GET /4 0", b"POST /5 0",
                      b"POST /6 300", b"", b"GET /8 0"]
    assert [s.body for s in recorded.seen] == [b"", b"two", b"three", b"", b"", b"x" * 300,
                                               b"", b""]


def test_pipelined_requests_split_byte_by_byte(recorded):
    data = get(b"/a") + post(b"/b", b"hello") + chunked(b"/c", [b"wor", b"ld"])
    with Conn(recorded.port) as conn:
        for i in range(len(data)):
            conn.send(data[i:i + 1])
        replies = [conn.reply() for _ in range(3)]
    assert [r.body for r in replies] == [b"GET /a 0", b"POST /b 5", b"POST /c 5"]
    assert [s.body for s in recorded.seen] == [b"", b"hello", b"world"]


def test_connection_close_is_honoured(recorded):
    run_case(recorded.port, recorded.recorder,
             Case("connection-close", get(b"/x", b"Connection: close\r\n") + get(b"/never"),
                  serve=Served(1, paths=["/x"], close=True), source="RFC 9112 9.6"))


# -- HTTP/1.0 ----------------------------------------------------------------------------

def test_http10_closes_after_the_answer(recorded):
    run_case(recorded.port, recorded.recorder,
             Case("http10", get(b"/x", version=b"HTTP/1.0") + get(b"/never"),
                  serve=Served(1, paths=["/x"], close=True), source="RFC 9112 9.3"))


def test_http10_keep_alive_is_honoured(recorded):
    with Conn(recorded.port) as conn:
        for path in (b"/a", b"/b"):
            conn.send(get(path, b"Connection: keep-alive\r\n", version=b"HTTP/1.0"))
            reply = conn.reply()
            assert reply.status == 200 and reply.get("Content-Length") is not None
            assert reply.body == b"GET " + path + b" 0"
            assert not reply.chunked
    assert [s.path for s in recorded.seen] == ["/a", "/b"]


# -- bodies and their limit --------------------------------------------------------------

def _send_and_read(conn: Conn, data: bytes) -> tuple:
    """Send ``data`` in a greenlet while reading: a server that answers 413 early and
    closes must not lose its answer to our send blocking."""
    sender = gevent.spawn(conn.send, data)
    replies, closed = conn.until_close(within=10)
    sender.join(timeout=10)
    sender.kill()
    return replies, closed


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_body_over_the_limit_is_413_and_close_never_truncated(recorded, framing):
    body = b"x" * (MIB + MIB // 4)  # 1.25 MiB against the default 1 MiB
    if framing == "chunked":
        data = chunked(b"/big", [body[i:i + 65536] for i in range(0, len(body), 65536)])
    else:
        data = post(b"/big", body)
    data += get(b"/after")
    with Conn(recorded.port, timeout=10) as conn:
        replies, closed = _send_and_read(conn, data)
    assert [r.status for r in replies] == [413], replies
    assert closed
    assert not recorded.seen, (f"the application read a body of "
                               f"{[len(s.body) for s in recorded.seen]} bytes")


def test_chunked_body_at_the_limit_is_read_whole(recorded):
    body = bytes(range(256)) * (MIB // 256)
    data = chunked(b"/limit", [body[i:i + 100_000] for i in range(0, len(body), 100_000)])
    with Conn(recorded.port, timeout=10) as conn:
        conn.send(data)
        reply = conn.reply(within=10)
    assert reply.status == 200
    assert recorded.seen[0].body == body


def test_smaller_body_limit_is_413(recorded_with):
    server = recorded_with(safety_limits=make_safety_limits(max_request_body_length=10))
    run_case(server.port, server.recorder,
             Case("chunked-over-10", chunked(b"/x", [b"123456", b"789012"]) + get(b"/never"),
                  reject=Rejected((413,)), source="racket request-test: chunked too large"))


# -- Expect: 100-continue ----------------------------------------------------------------

@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_expect_100_continue_before_the_body(recorded, framing):
    head = (b"POST /e HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\n"
            + (b"Content-Length: 5\r\n" if framing == "content-length"
               else b"Transfer-Encoding: chunked\r\n") + b"\r\n")
    body = b"hello" if framing == "content-length" else b"5\r\nhello\r\n0\r\n\r\n"
    with Conn(recorded.port) as conn:
        conn.send(head)
        interim = conn.reply(within=3)
        assert interim.status == 100, interim
        assert not recorded.seen
        conn.send(body)
        reply = conn.reply()
    assert reply.status == 200 and reply.body == b"POST /e 5"
    assert [s.body for s in recorded.seen] == [b"hello"]


def test_expect_100_continue_over_the_limit_is_413_without_100(recorded):
    head = (b"POST /e HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % (2 * MIB))
    with Conn(recorded.port) as conn:
        conn.send(head)
        replies, closed = conn.until_close()
    # RFC 9110 10.1.1: a final status instead of 100 (the body is never sent)
    assert [r.status for r in replies] in ([413], [100, 413]), replies
    assert closed and not recorded.seen


# -- trailers count against the header limits --------------------------------------------

def test_trailers_within_the_limits_are_accepted(recorded_with):
    server = recorded_with(safety_limits=make_safety_limits(max_request_headers=6))
    run_case(server.port, server.recorder,
             Case("trailers-ok", chunked(b"/t", [b"abc"], b"T1: a\r\nT2: b\r\n"),
                  serve=Served(1, bodies=[b"abc"]), source="RFC 9112 7.1.2"))


def test_too_many_trailers_are_refused(recorded_with):
    server = recorded_with(safety_limits=make_safety_limits(max_request_headers=6))
    trailers = b"".join(b"T%d: x\r\n" % i for i in range(20))
    run_case(server.port, server.recorder,
             Case("trailers-too-many", chunked(b"/t", [b"abc"], trailers) + get(b"/never"),
                  reject=Rejected((400, 431)),
                  source="issue 12; racket request-test: too many headers after chunked body"))


def test_too_long_trailer_is_refused(recorded_with):
    server = recorded_with(safety_limits=make_safety_limits(max_request_header_length=200))
    run_case(server.port, server.recorder,
             Case("trailer-too-long",
                  chunked(b"/t", [b"abc"], b"T: " + b"x" * 1000 + b"\r\n") + get(b"/never"),
                  reject=Rejected((400, 431)), source="issue 12"))


def test_trailers_in_total_over_the_header_size_are_refused(recorded):
    # Many small trailers: each line is short, together they exceed 100 headers.
    trailers = b"".join(b"T%d: x\r\n" % i for i in range(150))
    run_case(recorded.port, recorded.recorder,
             Case("trailers-over-default", chunked(b"/t", [b"abc"], trailers) + get(b"/never"),
                  reject=Rejected((400, 431)), source="issue 12"))


# -- Upgrade that no dispatcher takes ----------------------------------------------------

UPGRADES = [
    Case("websocket-upgrade-not-taken-then-pipelined",
         get(b"/ws", b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n") + get(b"/next"),
         serve=Served(2, paths=["/ws", "/next"]), source="issue 12"),
    Case("post-connection-upgrade-then-pipelined",
         post(b"/p", b"hello", b"Connection: Upgrade\r\nUpgrade: foo\r\n") + get(b"/next"),
         serve=Served(2, paths=["/p", "/next"], bodies=[b"hello", b""]), source="issue 12"),
    Case("post-connection-upgrade-no-upgrade-field",
         post(b"/p", b"hello", b"Connection: Upgrade\r\n") + get(b"/next"),
         serve=Served(2, bodies=[b"hello", b""]), source="issue 12"),
    Case("h2c-upgrade-not-taken",
         get(b"/h2", b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                     b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n") + get(b"/next"),
         serve=Served(2, paths=["/h2", "/next"]), source="RFC 9113 3.1 is obsolete: h1 answer"),
]


@pytest.mark.parametrize("case", case_params(UPGRADES))
def test_upgrade_no_dispatcher_takes_is_an_ordinary_request(recorded, case):
    run_case(recorded.port, recorded.recorder, case)


# -- a body read by a dispatcher that declines stays readable ----------------------------

def _reader_that_declines(conn, request):
    assert request.get_data() is not None  # reads the whole body
    next_dispatcher()


def _form_servlet(request):
    return response_full(200, None, None, "text/plain", [],
                         [f"a={request.form.get('a')};b={request.form.get('b')}".encode()])


def _raw_wsgi_after(conn, request):
    def app(environ, start_response):
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    conn.respond(app)


FORM = b"a=1&b=two"
FORM_HEAD = b"Content-Type: application/x-www-form-urlencoded\r\n"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_read_by_a_declining_dispatcher_reaches_the_next_one(served, framing):
    base = served(sequencer.make(_reader_that_declines, dispatch_servlet(_form_servlet)))
    data = (post(b"/f", FORM, FORM_HEAD) if framing == "content-length"
            else chunked(b"/f", [FORM[:3], FORM[3:]], extra=FORM_HEAD))
    with Conn(int(base.rsplit(":", 1)[1])) as conn:
        conn.send(data + get(b"/f"))
        first, second = conn.reply(), conn.reply()
    assert (first.status, first.body) == (200, b"a=1;b=two")
    assert (second.status, second.body) == (200, b"a=None;b=None")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_read_by_a_declining_dispatcher_reaches_a_wsgi_app(served, framing):
    base = served(sequencer.make(_reader_that_declines, _raw_wsgi_after))
    data = (post(b"/w", b"raw body") if framing == "content-length"
            else chunked(b"/w", [b"raw ", b"body"]))
    with Conn(int(base.rsplit(":", 1)[1])) as conn:
        conn.send(data)
        reply = conn.reply()
    assert (reply.status, reply.body) == (200, b"raw body")


def test_form_read_by_a_declining_dispatcher_reaches_a_wsgi_app(served):
    def form_reader(conn, request):
        assert request.form["a"] == "1"
        next_dispatcher()

    base = served(sequencer.make(form_reader, _raw_wsgi_after))
    with Conn(int(base.rsplit(":", 1)[1])) as conn:
        conn.send(post(b"/w", FORM, FORM_HEAD))
        reply = conn.reply()
    assert (reply.status, reply.body) == (200, FORM)


def test_body_not_read_by_the_app_does_not_bleed_into_the_next_request(served):
    """A servlet that ignores the body: the body is skipped, not parsed as a request."""
    recorder = Recorder()

    def ignore_body(request):
        return response_full(200, None, None, "text/plain", [], [b"ignored"])

    base = served(sequencer.make(filter.make("^/ignore", dispatch_servlet(ignore_body)),
                                 recorder.dispatcher()))
    smuggled = get(b"/smuggled")
    with Conn(int(base.rsplit(":", 1)[1])) as conn:
        conn.send(post(b"/ignore", smuggled) + chunked(b"/ignore", [smuggled]) + get(b"/next"))
        replies = [conn.reply() for _ in range(3)]
    assert [r.body for r in replies] == [b"ignored", b"ignored", b"GET /next 0"]
    assert [s.path for s in recorder.seen] == ["/next"]
