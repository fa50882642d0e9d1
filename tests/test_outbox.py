"""The engine's outbox (dispatch/engine/outbox.py): small answers wait for the end of
the hub's turn and leave together.  Over real sockets: nothing is lost, reordered or
held back, whichever way the socket is used next, and a client that stops reading is
still dropped after the send time-out."""
from __future__ import annotations

import socket
import time

import gevent
import pytest

from dispatch.engine.outbox import Outbox
from dispatch.handle import HANDLER_KEY
from dispatch.safety_limits import make_safety_limits
from servlets import response_full
from tests.http.rawhttp import Conn

SIZE = 20_000  # fits the outbox (64 KiB); a client that does not read fills its window


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def numbered(conn, request):
    """Answers /N with SIZE bytes of the digit N % 10; records its connection."""
    n = int(request.path.strip("/") or 0)
    handle = conn.environ[HANDLER_KEY]
    if numbered.small_buffer:  # a slow network: the kernel takes little at a time
        handle.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    numbered.handles.append(handle)
    conn.respond(response_full(200, None, None, "text/plain", [],
                               [str(n % 10).encode() * SIZE]))


@pytest.fixture(autouse=True)
def _fresh():
    numbered.handles = []
    numbered.small_buffer = False


def get(n: int) -> bytes:
    return f"GET /{n} HTTP/1.1\r\nHost: t\r\n\r\n".encode()


def test_one_client_s_answer_is_not_held_back(served):
    """A lone keep-alive client gets each answer before it asks again."""
    with Conn(port_of(served(numbered))) as c:
        for n in range(5):
            assert c.send(get(n))
            reply = c.reply(within=2)
            assert (reply.status, reply.body) == (200, str(n).encode() * SIZE)


def test_pipelined_answers_leave_in_order_in_fewer_sends(served):
    with Conn(port_of(served(numbered))) as c:
        assert c.send(b"".join(get(n) for n in range(12)))
        for n in range(12):
            assert c.reply().body == str(n % 10).encode() * SIZE


def test_many_connections_in_one_turn_each_get_their_own_answers(served):
    port = port_of(served(numbered))
    clients = [Conn(port) for _ in range(40)]
    try:
        for i, c in enumerate(clients):  # all asked before any is answered
            assert c.send(get(i))
        for i, c in enumerate(clients):
            assert c.reply().body == str(i % 10).encode() * SIZE
    finally:
        for c in clients:
            c.close()


def slow_reader(port: int) -> socket.socket:
    """A client whose receive window is small, so that the server's sends back up."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


def wait_until(condition, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.01)
    return True


def read_replies(sock: socket.socket, count: int) -> list:
    conn = Conn.__new__(Conn)
    conn.sock, conn.buf, conn.eof, conn.reset, conn.send_failed = sock, b"", False, False, False
    return [conn.reply() for _ in range(count)]


def test_answers_that_the_kernel_cannot_take_yet_wait_for_room_in_order(served):
    """Requests sent one by one to a client that does not read: once the socket's buffer
    is full, what is left waits for room (in the hub, no greenlet blocked), and the
    answers still arrive whole and in order when the client reads."""
    numbered.small_buffer = True
    sock = slow_reader(port_of(served(numbered)))
    try:
        sent = 0
        while sent < 60:
            sock.sendall(get(sent))
            sent += 1
            assert wait_until(lambda n=sent: len(numbered.handles) == n)
            conn = numbered.handles[-1]
            gevent.sleep(0)  # the turn ends: the outbox flushes
            if conn._out_watchers is not None:
                break
        assert conn._out_watchers is not None, "the socket's buffer never filled"
        # one more request while the last answer waits for room: it queues behind it
        sock.sendall(get(sent))
        assert wait_until(lambda: len(numbered.handles) == sent + 1)
        replies = read_replies(sock, sent + 1)
        assert [r.body[:1] for r in replies] == [str(n % 10).encode()
                                                for n in range(sent + 1)]
        assert all(len(r.body) == SIZE for r in replies)
    finally:
        sock.close()


def test_a_client_that_stops_reading_is_dropped_after_the_send_time_out(served):
    base = served(numbered, safety_limits=make_safety_limits(response_send_timeout=0.3))
    server = served.stoppers[-1].server
    numbered.small_buffer = True
    sock = slow_reader(port_of(base))
    try:
        sent = 0
        while sent < 60 and not (numbered.handles
                                 and numbered.handles[-1]._out_watchers is not None):
            sock.sendall(get(sent))
            sent += 1
            assert wait_until(lambda n=sent: len(numbered.handles) == n)
            gevent.sleep(0)
        assert numbered.handles[-1]._out_watchers is not None
        started = time.monotonic()
        assert wait_until(lambda: not server.connections, within=5)
        assert time.monotonic() - started < 3
    finally:
        sock.close()


def test_an_upgrade_after_a_pipelined_request_goes_after_its_answer(served):
    def dispatcher(conn, request):
        if request.path == "/up":
            stream = conn.environ[HANDLER_KEY].take_over(
                "101 Switching Protocols", [("Upgrade", "x"), ("Connection", "Upgrade")])
            stream.sendall(b"raw bytes")
            return
        numbered(conn, request)

    with Conn(port_of(served(dispatcher))) as c:
        assert c.send(get(3) + b"GET /up HTTP/1.1\r\nHost: t\r\nUpgrade: x\r\n"
                      b"Connection: Upgrade\r\n\r\n")
        assert c.reply().body == b"3" * SIZE
        assert c.wait_for(b"\r\n\r\nraw bytes")
        assert c.buf.startswith(b"HTTP/1.1 101 ")


def test_a_continue_after_a_pipelined_request_goes_after_its_answer(served):
    def dispatcher(conn, request):
        if request.method == "POST":
            body = conn.environ["wsgi.input"].read()
            conn.respond(response_full(200, None, None, "text/plain", [], [body]))
            return
        numbered(conn, request)

    with Conn(port_of(served(dispatcher))) as c:
        assert c.send(get(4) + b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
        assert c.reply().body == b"4" * SIZE
        assert c.wait_for(b"HTTP/1.1 100 Continue\r\n\r\n")
        c.buf = c.buf.split(b"100 Continue\r\n\r\n", 1)[1]
        assert c.send(b"hello")
        assert c.reply().body == b"hello"


def test_an_answer_before_a_close_is_sent_whole(served):
    with Conn(port_of(served(numbered))) as c:
        assert c.send(get(1) + b"GET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert c.reply().body == b"1" * SIZE
        assert c.reply().body == b"2" * SIZE
        assert c.closes()


def test_the_outbox_flushes_each_connection_once_per_turn():
    flushed = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def flush(self):
            flushed.append(self.name)

    outbox = Outbox()
    outbox.add(Fake("a"))
    outbox.add(Fake("b"))
    assert flushed == []  # not before the turn ends
    gevent.sleep(0)
    assert flushed == ["a", "b"]
    outbox.add(Fake("c"))
    gevent.sleep(0)
    assert flushed == ["a", "b", "c"]
