"""Fuzzing the HTTP/1.1 engine with hypothesis, over a real socket (issue 12).

* Valid pipelined requests split at random points give exactly the answers (and the
  bodies the application reads) that the requests call for: framing never depends on
  how TCP cuts the bytes.
* Random bytes in any one field of a request (method, target, version, a field name or
  value, Content-Length, Transfer-Encoding, a chunk size, the body) get a valid answer
  or an error answer and a close: never a 500, never a hang, and after an error answer
  nothing more is executed.

Examples are bounded (``max_examples``) and every wait has a deadline.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dispatch.safety_limits import make_safety_limits
from dispatch.server import serve
from tests.http.rawhttp import CLOSE_WITHIN, Conn, Recorder


@pytest.fixture(scope="module")
def fuzzed():
    recorder = Recorder()
    stop = serve(recorder.dispatcher(), port=0, listen_ip="127.0.0.1",
                 safety_limits=make_safety_limits(request_read_timeout=2.0))
    yield stop.port, recorder
    stop(timeout=1)


def _reset(recorder: Recorder) -> None:
    recorder.seen.clear()
    recorder.entered.clear()


SETTINGS = settings(max_examples=60, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# -- random splits of valid pipelined requests -------------------------------------------

paths = st.text(st.sampled_from("abcxyz019-._~"), min_size=1, max_size=12).map(lambda s: "/" + s)
bodies = st.binary(max_size=300)


@st.composite
def valid_request(draw):
    """``(bytes, method, path, body)`` of one valid request."""
    path = draw(paths)
    kind = draw(st.sampled_from(["get", "head", "content-length", "chunked"]))
    head = f" {path} HTTP/1.1\r\nHost: fuzz\r\n".encode()
    if kind in ("get", "head"):
        method = "GET" if kind == "get" else "HEAD"
        return method.encode() + head + b"\r\n", method, path, b""
    body = draw(bodies)
    if kind == "content-length":
        return b"POST" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body, "POST", path, body
    cuts = sorted(set(draw(st.lists(st.integers(0, len(body)), max_size=4))))
    pieces = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)]) if b > a]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return b"POST" + head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked, "POST", path, body


@SETTINGS
@given(requests=st.lists(valid_request(), min_size=1, max_size=5), data=st.data())
def test_random_splits_of_pipelined_requests(fuzzed, requests, data):
    port, recorder = fuzzed
    _reset(recorder)
    stream = b"".join(r[0] for r in requests)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=12))))
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)]) if b > a]
    with Conn(port) as conn:
        for piece in pieces:
            conn.send(piece)
        replies = [conn.reply(head=(r[1] == "HEAD")) for r in requests]
    assert [r.status for r in replies] == [200] * len(requests)
    expected = [b"" if method == "HEAD" else f"{method} {path} {len(body)}".encode()
                for _, method, path, body in requests]
    assert [r.body for r in replies] == expected
    assert [(s.method, s.path, s.body) for s in recorder.seen] == [
        (method, path, body) for _, method, path, body in requests]


# -- random bytes in every field ---------------------------------------------------------

# Bytes that parsers disagree about, and then anything at all.
interesting = st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b"\x0b", b"\x0c",
                               b"\x85", b"\xa0", b":", b";", b",", b'"', b"0", b"5", b"a", b"-",
                               b"+", b"_", b"/", b"?", b"#", b"%", b"chunked", b"HTTP/1.1"])
noise = st.one_of(st.binary(max_size=24),
                  st.lists(interesting, max_size=6).map(b"".join))
FIELDS = ["method", "target", "version", "name", "value", "content-length",
          "transfer-encoding", "chunk-size", "chunk-data", "body"]


def _request(parts: dict) -> bytes:
    head = (parts["method"] + b" " + parts["target"] + b" " + parts["version"] + b"\r\n"
            + b"Host: fuzz\r\n" + parts["name"] + b": " + parts["value"] + b"\r\n")
    if parts["framing"] == "content-length":
        return head + b"Content-Length: " + parts["content-length"] + b"\r\n\r\n" + parts["body"]
    return (head + b"Transfer-Encoding: " + parts["transfer-encoding"] + b"\r\n\r\n"
            + parts["chunk-size"] + b"\r\n" + parts["chunk-data"] + b"\r\n0\r\n\r\n")


@SETTINGS
@given(field=st.sampled_from(FIELDS), junk=noise,
       framing=st.sampled_from(["content-length", "chunked"]),
       mode=st.sampled_from(["replace", "insert"]), at=st.integers(0, 20))
def test_random_bytes_in_a_field_never_500_never_hang(fuzzed, field, junk, framing, mode, at):
    port, recorder = fuzzed
    _reset(recorder)
    parts = {"method": b"POST", "target": b"/fuzz?a=1", "version": b"HTTP/1.1",
             "name": b"X-Fuzz", "value": b"value", "content-length": b"5",
             "transfer-encoding": b"chunked", "chunk-size": b"5", "chunk-data": b"hello",
             "body": b"hello", "framing": framing}
    original = parts[field]
    if mode == "replace":
        parts[field] = junk
    else:
        cut = min(at, len(original))
        parts[field] = original[:cut] + junk + original[cut:]
    assume(parts["method"] != b"HEAD")  # its answer has a length but no body: not parsed here
    sentinel = b"GET /sentinel HTTP/1.1\r\nHost: fuzz\r\n\r\n"
    with Conn(port) as conn:
        conn.send(_request(parts) + sentinel)
        conn.shut()  # EOF: whatever the server waits for, it will not come
        replies, closed = conn.until_close(within=CLOSE_WITHIN + 3)
    assert closed, f"the server neither answered everything nor closed; had {conn.buf[:300]!r}"
    statuses = [r.status for r in replies if r.status >= 200]
    assert all(s != 500 and 200 <= s < 600 for s in statuses), replies
    errors = [i for i, s in enumerate(statuses) if s >= 400]
    if errors:
        # nothing after an error answer: it is the last one, and the app ran only what
        # was answered with success before it
        assert errors == [len(statuses) - 1], statuses
        assert len(recorder.seen) == errors[0], [s.path for s in recorder.seen]
    assert len(statuses) <= 2


def test_the_server_still_serves_after_the_fuzzing(fuzzed):
    port, recorder = fuzzed
    with Conn(port) as conn:
        conn.send(b"GET /after HTTP/1.1\r\nHost: fuzz\r\n\r\n")
        reply = conn.reply()
    assert (reply.status, reply.body) == (200, b"GET /after 0")
