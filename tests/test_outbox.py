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
from tests.support import wait_until

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


@pytest.fixture
def deferred(monkeypatch):
    """The connections whose answers waited in an outbox, in order."""
    added = []
    add = Outbox.add

    def recording(self, conn):
        added.append(conn)
        add(self, conn)

    monkeypatch.setattr(Outbox, "add", recording)
    return added


def get(n: int) -> bytes:
    return f"GET /{n} HTTP/1.1\r\nHost: t\r\n\r\n".encode()


def test_a_lone_client_s_answer_leaves_at_once(served, deferred):
    """Nothing else runs in the hub's turn: waiting would only add latency."""
    with Conn(port_of(served(numbered))) as c:
        for n in range(5):
            assert c.send(get(n))
            reply = c.reply(within=2)
            assert (reply.status, reply.body) == (200, str(n).encode() * SIZE)
    assert deferred == []


def connections(port: int, count: int) -> list:
    return [Conn(port) for _ in range(count)]


def at_once(clients: list, data: bytes) -> None:
    """Send ``data`` on every client before the server's hub runs again: one turn of
    the hub finds them all readable."""
    for c in clients:
        assert c.send(data)


def test_many_connections_in_one_turn_each_get_their_own_answers(served, deferred):
    port = port_of(served(numbered))
    clients = connections(port, 40)
    try:
        for i, c in enumerate(clients):  # all asked before any is answered
            assert c.send(get(i))
        for i, c in enumerate(clients):
            assert c.reply().body == str(i % 10).encode() * SIZE
    finally:
        for c in clients:
            c.close()
    assert deferred, "no answer waited for the end of the turn"


def test_pipelined_answers_leave_whole_and_in_order(served, deferred):
    clients = connections(port_of(served(numbered)), 4)
    try:
        at_once(clients, b"".join(get(n) for n in range(12)))
        for c in clients:
            for n in range(12):
                assert c.reply().body == str(n % 10).encode() * SIZE
    finally:
        for c in clients:
            c.close()
    assert deferred


def slow_reader(port: int) -> Conn:
    """A client whose receive window is small, so that the server's sends back up."""
    return Conn(port, rcvbuf=4096)


def fill_until_stuck(socks: list) -> tuple:
    """Ask on every socket at once, round after round, without reading, until an answer
    waits in the hub for room in the kernel's buffer; the rounds asked, and that
    connection."""
    for rounds in range(1, 61):
        for sock in socks:
            assert sock.send(get(rounds - 1))
        assert wait_until(lambda n=rounds: len(numbered.handles) == n * len(socks))
        gevent.sleep(0)  # the turn ends: the outbox flushes
        stuck = [h for h in numbered.handles if h._out_watchers is not None]
        if stuck:
            return rounds, stuck[0]
    raise AssertionError("no answer had to wait for room")


def test_answers_that_the_kernel_cannot_take_yet_wait_for_room_in_order(served):
    """Clients that do not read: once a socket's buffer is full, what is left waits for
    room (in the hub: the connection's greenlet goes on), the next answer queues behind
    it, and all arrive whole and in order when the clients read."""
    numbered.small_buffer = True
    port = port_of(served(numbered))
    socks = [slow_reader(port) for _ in range(3)]
    try:
        rounds, stuck = fill_until_stuck(socks)
        mine = next(s for s in socks if s.sock.getsockname()[1] == stuck.address[1])
        assert mine.send(get(rounds))  # its greenlet is free to answer, behind the rest
        assert wait_until(lambda: len(numbered.handles) == rounds * len(socks) + 1)
        for sock in socks:
            count = rounds + 1 if sock is mine else rounds
            replies = [sock.reply() for _ in range(count)]
            assert [r.body for r in replies] == [str(n % 10).encode() * SIZE
                                                 for n in range(count)]
    finally:
        for sock in socks:
            sock.close()


def test_a_client_that_stops_reading_is_dropped_after_the_send_time_out(served):
    base = served(numbered, safety_limits=make_safety_limits(response_send_timeout=0.3))
    server = served.stoppers[-1].server
    numbered.small_buffer = True
    socks = [slow_reader(port_of(base)) for _ in range(3)]
    try:
        _, stuck = fill_until_stuck(socks)
        started = time.monotonic()
        assert wait_until(lambda: stuck not in server.connections, within=5)
        assert time.monotonic() - started < 3
    finally:
        for sock in socks:
            sock.close()


UPGRADE = b"GET /up HTTP/1.1\r\nHost: t\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"


def test_an_upgrade_after_a_pipelined_request_goes_after_its_answer(served, deferred):
    def dispatcher(conn, request):
        if request.path == "/up":
            stream = conn.environ[HANDLER_KEY].take_over(
                "101 Switching Protocols", [("Upgrade", "x"), ("Connection", "Upgrade")])
            stream.sendall(b"raw bytes")
            return
        numbered(conn, request)

    clients = connections(port_of(served(dispatcher)), 4)
    try:
        at_once(clients, get(3) + UPGRADE)
        for c in clients:
            assert c.reply().body == b"3" * SIZE
            assert c.wait_for(b"\r\n\r\nraw bytes")
            assert c.buf.startswith(b"HTTP/1.1 101 ")
    finally:
        for c in clients:
            c.close()
    assert deferred


def test_a_continue_after_a_pipelined_request_goes_after_its_answer(served, deferred):
    def dispatcher(conn, request):
        if request.method == "POST":
            body = conn.environ["wsgi.input"].read()
            conn.respond(response_full(200, None, None, "text/plain", [], [body]))
            return
        numbered(conn, request)

    clients = connections(port_of(served(dispatcher)), 4)
    try:
        at_once(clients, get(4) + b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\n\r\n")
        for c in clients:
            assert c.reply().body == b"4" * SIZE
            assert c.wait_for(b"HTTP/1.1 100 Continue\r\n\r\n")
            c.buf = c.buf.split(b"100 Continue\r\n\r\n", 1)[1]
            assert c.send(b"hello")
            assert c.reply().body == b"hello"
    finally:
        for c in clients:
            c.close()
    assert deferred


def test_an_answer_before_a_close_is_sent_whole(served, deferred):
    clients = connections(port_of(served(numbered)), 4)
    try:
        at_once(clients, get(1) + b"GET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        for c in clients:
            assert c.reply().body == b"1" * SIZE
            assert c.reply().body == b"2" * SIZE
            assert c.closes()
    finally:
        for c in clients:
            c.close()
    assert deferred


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
