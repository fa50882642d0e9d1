"""dispatch.testing's WebSocket and SSE test clients: Starlette-style sessions against a
server started for each session, and their parsers alone."""
import socket

import pytest

from dispatch import filter, sequencer
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.testing import (
    Client,
    ServerSentEvent,
    WebSocketDisconnect,
    _Dechunker,
    _EventParser,
    sse_connect,
)
from dispatch.websocket import (
    HandshakeFailed,
    is_eof,
    ws_close,
    ws_recv,
    ws_send,
    ws_service_mapper,
)
from dispatch.websocket.service_mapper import make_service_mapper_dispatcher
from servlets import response_full


def echo(c):
    while not is_eof(message := ws_recv(c)):
        if message == "bye":
            ws_close(c, 4001, "asked to")
            return
        ws_send(c, message, payload_type="text" if isinstance(message, str) else "binary")


def ws_app():
    return make_service_mapper_dispatcher(ws_service_mapper(
        ("^/ws$", ([None], echo)), ("^/chat$", (["chat"], echo))))


def refused(port):
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_websocket_session_like_starlette():
    client = Client(ws_app())
    with client.websocket_connect("/ws") as ws:
        port = ws.conn.stream.socket.getpeername()[1]
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send_json({"a": [1, "é"]})
        assert ws.receive_json() == {"a": [1, "é"]}
        ws.send_json({"b": 2}, mode="binary")
        assert ws.receive_json(mode="binary") == {"b": 2}
        ws.send("either")
        assert ws.receive() == "either"
        ws.send_bytes(b"x")
        with pytest.raises(AssertionError, match="binary"):
            ws.receive_text()
    refused(port)  # the session's server is gone with it


def test_websocket_session_sees_the_server_close_and_timeouts():
    client = Client(ws_app())
    with client.websocket_connect("/chat", protocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
        with pytest.raises(TimeoutError):
            ws.receive(timeout=0.05)  # nothing was sent: bounded, not a hang
        ws.send_text("still open")
        assert ws.receive_text() == "still open"
        ws.send_text("bye")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4001, "asked to")
        assert ws.close_code == 4001


def test_websocket_refused_handshake_raises_and_stops_the_server():
    def page(conn, request):
        conn.respond(response_full(200, None, None, "text/plain", [], [b"page"]))

    client = Client(sequencer.make(ws_app(), page))
    with pytest.raises(HandshakeFailed):
        client.websocket_connect("/not-a-socket")


def test_sse_session_yields_parsed_events():
    source = make_sse(heartbeat=0.05)
    client = Client(filter.make("^/events$", sse_dispatcher(source)))
    with client.sse_connect("/events") as events:
        assert events.status_code == 200
        assert events.headers["content-type"] == "text/event-stream"
        sse_send_event(source, data="first")
        sse_send_event(source, data="two\nlines", event="update", id=True)
        sse_send_event(source, data="later", retry=1500)
        assert events.receive() == ServerSentEvent("first")
        assert events.receive() == ServerSentEvent("two\nlines", "update", "1")
        assert events.receive() == ServerSentEvent("later", retry=1500)
        assert events.last_event_id == "1"
        # Heartbeats are comments: kept apart, waited for with receive_comment.
        assert events.receive_comment(timeout=5) is not None
        with pytest.raises(TimeoutError):
            events.receive(timeout=0.05)
    # Last-Event-ID replays what came after it.
    sse_send_event(source, data="kept", id=True)
    with client.sse_connect("/events", headers={"Last-Event-ID": "1"}) as events:
        assert events.receive().data == "kept"


def test_sse_iteration_ends_with_the_stream(served):
    def three(conn, request):
        body = b"".join(b"data: %d\n\n" % i for i in range(3))
        conn.respond(response_full(200, None, None, "text/event-stream", [], [body]))

    base = served(three)
    with sse_connect(base + "/") as events:
        assert [e.data for e in events] == ["0", "1", "2"]
        with pytest.raises(EOFError):
            events.receive()


def test_sse_connect_reports_a_non_stream_answer(served):
    base = served(filter.make("^/only$", lambda c, r: None))
    with sse_connect(base + "/missing") as events:
        assert events.status_code == 404
    with pytest.raises(ValueError):
        sse_connect("ws://127.0.0.1:1/")


def test_event_parser_follows_the_html_standard():
    parser = _EventParser()
    stream = (b"\xef\xbb\xbfdata: a\r\ndata:b\r\rdata\n\n: a comment\n"
              b"event: e\nid: 7\nretry: x\ndata: c\n\nid: bad\0id\ndata: d\n\n"
              b"id: 9\n\ndata:  two spaces\nunknown: z\n\n")
    items = []
    for i in range(len(stream)):  # byte by byte: CRLF and UTF-8 split anywhere
        items += parser.feed(stream[i:i + 1])
    items += parser.feed(b"", final=True)
    assert items == [ServerSentEvent("a\nb"), ServerSentEvent(""), " a comment"[1:],
                     ServerSentEvent("c", "e", "7"), ServerSentEvent("d"),
                     ServerSentEvent(" two spaces")]
    assert parser.last_event_id == "9"  # an id-only block sets it, dispatching nothing
    # An unterminated block at the end is not an event.
    assert _EventParser().feed(b"data: x\n", final=True) == []


def test_dechunker_byte_by_byte_and_malformed():
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    dechunker = _Dechunker()
    out = b"".join(dechunker.feed(body[i:i + 1]) for i in range(len(body)))
    assert out == b"hello world" and dechunker.done
    with pytest.raises(ValueError):
        _Dechunker().feed(b"zz\r\n")
    with pytest.raises(ValueError):
        _Dechunker().feed(b"1\r\nabc")
