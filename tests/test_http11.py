"""The sans-I/O HTTP/1.1 core without sockets: requests from bytes, bytes from responses."""
import pytest

from dispatch.http11 import writer
from dispatch.http11.environ import environ_for
from dispatch.http11.reader import Message, ProtocolError, RequestReader

HEAD = b"POST / HTTP/1.1\r\nHost: a\r\n"


def read(data: bytes, split: int = 0, **limits) -> list:
    """Everything the reader queues for ``data`` (fed whole, or in pieces of ``split``)."""
    reader = RequestReader(**limits)
    pieces = [data] if not split else [data[i:i + split] for i in range(0, len(data), split)]
    for piece in pieces:
        reader.feed(piece)
    return list(reader.queue)


def body(message: Message) -> bytes:
    return b"".join(message.body)


def error_of(items: list) -> ProtocolError:
    """The error a request stream ends with: queued, or on the last message's body."""
    last = items[-1]
    return last if isinstance(last, ProtocolError) else last.error


@pytest.mark.parametrize("split", [0, 1, 7])
def test_pipelined_requests_come_out_whole_and_in_order(split):
    items = read(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" + HEAD + b"Content-Length: 3\r\n\r\nabc"
                 + HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;x=y\r\nf\r\n0\r\n\r\n",
                 split)
    assert [m.target for m in items] == [b"/1", b"/", b"/"]
    assert [body(m) for m in items] == [b"", b"abc", b"def"]
    assert all(m.complete and m.error is None for m in items)
    assert items[2].chunked and items[1].content_length == 3


SMUGGLING = {
    "CL and TE": (HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "two Content-Lengths": (HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
    "Content-Length +5": (HEAD + b"Content-Length: +5\r\n\r\nhello", 400),
    "Content-Length 1_0": (HEAD + b"Content-Length: 1_0\r\n\r\nhello", 400),
    "Content-Length -1": (HEAD + b"Content-Length: -1\r\n\r\n", 400),
    "TE xchunked": (HEAD + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    "TE gzip": (HEAD + b"Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400),
    "TE chunked, identity": (HEAD + b"Transfer-Encoding: chunked, identity\r\n\r\n", 400),
    "TE gzip, chunked": (HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    "TE chunked twice": (HEAD + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                         b"\r\n\r\n0\r\n\r\n", 400),
    "TE \\x0bchunked": (HEAD + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    "TE \\x0cchunked": (HEAD + b"Transfer-Encoding: \x0cchunked\r\n\r\n0\r\n\r\n", 400),
    "TE chunked\\x85": (HEAD + b"Transfer-Encoding: chunked\x85\r\n\r\n0\r\n\r\n", 400),
    "TE chunked\\xa0": (HEAD + b"Transfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n", 400),
    "HTTP/1.0 with TE": (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "bare LF in a chunk extension": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
                                     b"5;a\nb\r\nhello\r\n0\r\n\r\n", 400),
    "malformed chunk size": (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    "no Host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "two Hosts": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "NUL in a value": (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400),
    "bare CR in a value": (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400),
    "field name not a token": (b"GET / HTTP/1.1\r\nHost: a\r\nX(y: 1\r\n\r\n", 400),
    "space before colon": (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    "obsolete line folding": (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
    "method not a token": (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    "unknown method": (b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    "control byte in target": (b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    "non-ASCII target": (b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    "HTTP/1": (b"GET /x HTTP/1\r\nHost: a\r\n\r\n", 400),
    "HTTP/1.2": (b"GET /x HTTP/1.2\r\nHost: a\r\n\r\n", 505),
    "HTTP/2.0": (b"GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    "lower-case version": (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    "bare LF line ends": (b"GET / HTTP/1.1\nHost: a\n\n", 400),
    "CONNECT": (b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501),
    "authority form on GET": (b"GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
}


@pytest.mark.parametrize("data,status", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_framing_errors_end_the_stream_with_one_error(data, status):
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
    for split in (0, 3):
        items = read(data + smuggled, split)
        error = error_of(items)
        # an unknown method is 501 when its whole request line is at hand, else 400
        expected = (status, 400) if status == 501 and split else (status,)
        assert isinstance(error, ProtocolError) and error.status in expected
        assert all(getattr(m, "target", b"") != b"/smuggled" for m in items)


def test_after_an_error_nothing_more_is_read():
    reader = RequestReader()
    reader.feed(b"GET / HTTP/1.1\r\n\r\n")
    reader.feed(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
    assert reader.dead and len(reader.queue) == 1
    assert isinstance(reader.queue[0], ProtocolError)


def test_a_closed_reader_reads_nothing_more_and_drops_its_parser():
    reader = RequestReader()
    reader.feed(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /tw")
    reader.close()
    reader.feed(b"o HTTP/1.1\r\nHost: a\r\n\r\n")
    reader.feed_eof()
    assert reader.dead and [m.target for m in reader.queue] == [b"/one"]
    assert reader._parser is None  # the parser holds the reader's methods: a cycle


def test_an_empty_line_before_the_request_line_is_ignored():
    [message] = read(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert message.method == "GET" and message.complete


def test_a_body_over_the_limit_is_413_never_a_truncated_body():
    [error] = read(HEAD + b"Content-Length: 11\r\n\r\n", max_body=10)
    assert error.status == 413
    chunked = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"6\r\nabcdef\r\n" * 2 + b"0\r\n\r\n"
    [message] = read(chunked, max_body=10)
    assert message.error.status == 413 and not message.complete
    assert sum(len(piece) for piece in message.body) <= 10


def test_head_limits():
    assert read(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: a\r\n\r\n", max_line=50)[0].status \
        == 414
    many = b"".join(b"X-%d: v\r\n" % i for i in range(5))
    assert read(b"GET / HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n", max_headers=5)[0].status \
        == 431
    long = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 200 + b"\r\n\r\n"
    assert read(long, max_header=100)[0].status == 431
    endless = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 2000  # a field that never ends
    assert read(endless, split=100, max_line=100, max_headers=5, max_header=100)[0].status \
        == 431


def test_trailers_count_against_the_header_limits():
    data = HEAD + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n" + b"".join(
        b"T-%d: v\r\n" % i for i in range(10)) + b"\r\n"
    [message] = read(data, max_headers=5)
    assert message.error.status == 431
    [message] = read(data)
    assert message.complete and body(message) == b"a"
    assert all(not name.startswith(b"T-") for name, _ in message.headers)


def test_a_head_cut_by_eof_is_an_error_never_a_request():
    reader = RequestReader()
    reader.feed(b"GET / HTTP/1.1\r\nHost: a\r\n")
    reader.feed_eof()
    assert [item.status for item in reader.queue] == [400]
    reader = RequestReader()
    reader.feed(HEAD + b"Content-Length: 5\r\n\r\nab")
    reader.feed_eof()
    assert reader.queue[0].error.status == 400


def test_an_upgrade_request_stops_the_reader_until_resumed():
    reader = RequestReader()
    reader.feed(HEAD + b"Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 3\r\n\r\n"
                b"abcGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
    [message] = reader.queue
    assert message.upgrade and reader.paused
    assert reader.unparsed.startswith(b"abcGET /next")
    reader.queue.popleft()
    reader.resume(message)  # nobody upgraded: an ordinary request, body and all
    assert body(message) == b"abc" and message.complete
    assert [m.target for m in reader.queue] == [b"/next"]


def test_keep_alive_and_expect_continue():
    [m10, m10ka] = read(b"GET / HTTP/1.0\r\n\r\n")[:1] + read(
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert not m10.keep_alive and m10ka.keep_alive
    [m] = read(HEAD + b"Expect: 100-continue\r\nContent-Length: 1\r\n\r\n")
    assert m.expect_continue and not m.complete


def test_environ_of_an_absolute_form_target_takes_host_from_the_url():
    [message] = read(b"GET http://example.com:8080/p%20q?x=1 HTTP/1.1\r\nHost: other\r\n"
                     b"Cookie: a=1\r\nCookie: b=2\r\nX-A: 1\r\nx-a: 2\r\nX_A: no\r\n\r\n")
    environ = environ_for(message, {})
    assert environ["PATH_INFO"] == "/p q" and environ["QUERY_STRING"] == "x=1"
    assert environ["HTTP_HOST"] == "example.com:8080"
    assert environ["HTTP_COOKIE"] == "a=1; b=2" and environ["HTTP_X_A"] == "1, 2"
    [message] = read(b"GET //foo/bar HTTP/1.1\r\nHost: a\r\n\r\n")
    assert environ_for(message, {})["PATH_INFO"] == "//foo/bar"


def test_response_heads():
    data, keep, _ = writer.head("200 OK", [("Content-Type", "text/plain")], 5, True, False, "D")
    assert data == (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                    b"Date: D\r\n\r\n") and keep
    data, keep, _ = writer.head("200 OK", [], writer.CHUNKED, True, False, "D")
    assert b"Transfer-Encoding: chunked\r\n" in data
    data, keep, _ = writer.head("200 OK", [], writer.CLOSE_DELIMITED, True, True, "D")
    assert not keep and b"Connection" not in data
    data, keep, _ = writer.head("200 OK", [], 0, True, True, "D")
    assert keep and b"Connection: keep-alive\r\n" in data
    data, keep, _ = writer.head("200 OK", [("Connection", "close")], 0, True, False, "D")
    assert not keep and data.count(b"Connection") == 1
    data, keep, declared = writer.head("200 OK", [("Content-Length", "7")], 5, True, False, "D")
    assert declared == 7 and data.count(b"Content-Length") == 1


@pytest.mark.parametrize("status,headers", [
    ("200 OK\r\nX: y", []), ("99 Low", []), ("600 High", []), ("OK", []),
    ("200 OK", [("X", "a\r\nSet-Cookie: evil")]), ("200 OK", [("X", "a\nb")]),
    ("200 OK", [("X", "a\rb")]), ("200 OK", [("X", "a\0b")]), ("200 OK", [("X Y", "v")]),
    ("200 OK", [("X:", "v")]), ("200 OK", [("X", "\u0394")]),
])
def test_response_heads_that_would_split_or_lie_are_refused(status, headers):
    with pytest.raises(writer.BadResponse):
        writer.head(status, headers, 0, True, False, "D")
