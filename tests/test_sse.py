"""dispatch.sse over real sockets: replay, the replay/live race, fields, heartbeats, slow
consumers, clean-up, several sources."""
import gc
import socket

import gevent
import pytest
from greenlet import greenlet

from dispatch import filter, sequencer
from dispatch.sse import (
    MemoryBroker,
    is_sse,
    make_sse,
    sse_dispatcher,
    sse_restart_messages,
    sse_send_event,
    sse_serve,
)
from dispatch.testing import declines
from tests.sse_client import RawSSE
from tests.support import wait_until


@pytest.fixture
def source_at(served):
    def start(**options):
        sse = make_sse(**options)
        return sse, served(sse_dispatcher(sse))
    return start


def test_predicate_and_headers(source_at):
    sse, base = source_at()
    assert is_sse(sse) and not is_sse(object())
    client = RawSSE(base)
    head = client.head.decode().lower()
    assert head.startswith("http/1.1 200")
    for header in ("content-type: text/event-stream", "cache-control: no-cache",
                   "x-accel-buffering: no"):
        assert header in head
    client.close()


def test_kept_events_are_replayed_to_new_clients_and_others_are_not(source_at):
    sse, base = source_at()
    assert [sse_send_event(sse, data=f"k{i}", id=True) for i in (1, 2, 3)] == [1, 2, 3]
    assert sse_send_event(sse, data="gone") is None  # nobody connected: nobody gets it
    client = RawSSE(base)
    assert client.events(3) == [{"id": str(i), "data": f"k{i}"} for i in (1, 2, 3)]
    sse_send_event(sse, data="live")
    assert client.events(1) == [{"data": "live"}]
    client.close()


def test_last_event_id_replays_only_what_follows(source_at):
    sse, base = source_at()
    for i in range(1, 6):
        sse_send_event(sse, data=str(i), id=True)
    client = RawSSE(base, headers={"Last-Event-ID": "3"})
    assert [e["id"] for e in client.events(2)] == ["4", "5"]
    sse_send_event(sse, data="6", id=True)
    assert client.events(1) == [{"id": "6", "data": "6"}]
    client.close()


def test_a_malformed_last_event_id_is_treated_as_absent(source_at):
    sse, base = source_at()
    sse_send_event(sse, data="a", id=True)
    client = RawSSE(base, headers={"Last-Event-ID": "not-a-number"})
    assert client.events(1) == [{"id": "1", "data": "a"}]
    client.close()


def test_history_is_bounded_and_older_ids_get_the_window(source_at):
    sse, base = source_at(history=3)
    for i in range(1, 8):
        sse_send_event(sse, data=str(i), id=True)
    assert len(sse.broker.replay(None)) == 3
    client = RawSSE(base, headers={"Last-Event-ID": "1"})  # from before the window
    assert [e["id"] for e in client.events(3)] == ["5", "6", "7"]
    client.close()


def test_restart_messages_forgets_kept_events(source_at):
    sse, base = source_at()
    sse_send_event(sse, data="old", id=True)
    sse_restart_messages(sse)
    assert sse_send_event(sse, data="new", id=True) == 2  # ids keep increasing
    client = RawSSE(base)
    assert client.events(1) == [{"id": "2", "data": "new"}]
    client.close()


def test_multiline_data_event_and_retry_fields(source_at):
    sse, base = source_at()
    client = RawSSE(base)
    assert wait_until(lambda: len(sse.subscribers) == 1)
    sse_send_event(sse, data="line 1\nline 2\r\nline 3", event="update", retry=2500)
    assert client.events(1) == [{"event": "update", "retry": "2500",
                                 "data": "line 1\nline 2\nline 3"}]
    with pytest.raises(ValueError):
        sse_send_event(sse, data="x", event="bad\nname")
    client.close()


class YieldingBroker(MemoryBroker):
    """A broker whose replay waits on I/O, as a networked one does: events are sent by
    others while a new client is being replayed."""

    def __init__(self, during_replay):
        super().__init__()
        self.during_replay = during_replay

    def replay(self, after):
        snapshot = super().replay(after)
        self.during_replay()
        gevent.sleep(0)
        return snapshot


def test_events_sent_during_a_replay_arrive_once_in_order(served):
    sse = None

    def send_two_more():
        sse_send_event(sse, data="live-kept", id=True)
        sse_send_event(sse, data="live-unkept")

    sse = make_sse(YieldingBroker(send_two_more))
    for i in range(3):
        sse.broker.publish(lambda event_id, i=i: b"id: %d\ndata: r%d\n\n" % (event_id, i), True)
    client = RawSSE(served(sse_dispatcher(sse)), headers={"Last-Event-ID": "1"})
    events = client.events(4)
    assert [e.get("id") for e in events] == ["2", "3", "4", None]
    assert [e["data"] for e in events] == ["r1", "r2", "live-kept", "live-unkept"]
    client.close()


def test_clients_joining_while_events_flow_see_no_gap_and_no_duplicate(source_at):
    sse, base = source_at()
    stop = gevent.event.Event()

    def producer():  # paced, so that clients keep up; bounded by count and by `stop`
        for _ in range(20000):
            if stop.is_set():
                return
            sse_send_event(sse, data="x", id=True)
            gevent.sleep(0.0005)

    feeder = gevent.spawn(producer)
    try:
        for _ in range(10):
            assert wait_until(lambda: sse.broker._last_id >= 20)
            after = sse.broker._last_id - 10
            client = RawSSE(base, headers={"Last-Event-ID": str(after)})
            ids = [int(e["id"]) for e in client.events(30)]
            assert ids == list(range(after + 1, after + 31))
            client.close()
    finally:
        stop.set()
        feeder.join(5)


def test_heartbeats_keep_idle_streams_talking(source_at):
    sse, base = source_at(heartbeat=0.02)
    client = RawSSE(base)
    assert client.messages(3, comments=True) == [":", ":", ":"]
    client.close()


def test_a_client_that_stops_reading_is_dropped_and_sending_never_blocks(source_at):
    sse, base = source_at(queue_limit=4, heartbeat=None)
    host, port = base.split("//")[1].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert wait_until(lambda: len(sse.subscribers) == 1)
    big = "x" * 65536
    with gevent.Timeout(10):
        for _ in range(200):  # far more than the socket buffers and the queue hold
            sse_send_event(sse, data=big)
            gevent.sleep(0)
            if not sse.subscribers:
                break
    assert wait_until(lambda: not sse.subscribers)
    sock.settimeout(5)
    with pytest.raises((ConnectionError, OSError)):
        while sock.recv(1 << 20):
            pass
        raise ConnectionResetError("closed")  # EOF: the server closed it
    sock.close()


def greenlet_count():
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)


def test_vanished_clients_are_freed_after_a_thousand_cycles(source_at):
    sse, base = source_at(heartbeat=0.01)
    client = RawSSE(base)  # one live client throughout, to check it is not disturbed
    assert wait_until(lambda: len(sse.subscribers) == 1)
    gc.collect()
    baseline = greenlet_count()
    for _ in range(1000):
        c = RawSSE(base)
        c.messages(1, comments=True)  # subscribed and streaming
        c.close()
    assert wait_until(lambda: len(sse.subscribers) == 1, 20)
    sse_send_event(sse, data="still here")
    assert client.events(1) == [{"data": "still here"}]
    client.close()
    assert wait_until(lambda: not sse.subscribers)
    gc.collect()
    assert wait_until(lambda: greenlet_count() < baseline)  # the live client's greenlet is gone too


def test_several_sources_on_one_server(served):
    a, b = make_sse(), make_sse()
    base = served(sequencer.make(filter.make("^/sse/a$", sse_dispatcher(a)),
                                 filter.make("^/sse/b$", sse_dispatcher(b))))
    sse_send_event(a, data="for a", id=True)
    sse_send_event(b, data="for b", id=True)
    ca, cb = RawSSE(base, "/sse/a"), RawSSE(base, "/sse/b")
    assert ca.events(1)[0]["data"] == "for a"
    assert cb.events(1)[0]["data"] == "for b"
    ca.close()
    cb.close()


def test_only_get_is_served():
    sse = make_sse()
    assert declines(sse_dispatcher(sse), "/", method="POST")
    assert not declines(sse_dispatcher(sse), "/")


def test_stopping_the_server_ends_streams(source_at, served):
    sse, base = source_at(heartbeat=None)
    client = RawSSE(base)
    assert wait_until(lambda: len(sse.subscribers) == 1)
    served.stoppers[-1](timeout=2)
    assert client.ended()
    client.close()


def test_sse_serve_on_its_own_port():
    sse = make_sse()
    stop = sse_serve(sse, port=0, listen_ip="127.0.0.1")
    try:
        sse_send_event(sse, data="own port", id=True)
        client = RawSSE(f"http://127.0.0.1:{stop.port}")
        assert client.events(1) == [{"id": "1", "data": "own port"}]
        client.close()
    finally:
        stop()


def test_idle_streams_hold_no_greenlet(source_at):
    sse, base = source_at(heartbeat=None)
    gc.collect()
    before = greenlet_count()
    clients = [RawSSE(base) for _ in range(20)]
    for client in clients:
        client.messages(1, comments=True)
    assert wait_until(lambda: len(sse.subscribers) == 20)
    gc.collect()
    assert wait_until(lambda: greenlet_count() <= before)  # written to directly, never waited on
    sse_send_event(sse, data="to all")
    assert all(client.events(1) == [{"data": "to all"}] for client in clients)
    for client in clients:
        client.close()
    assert wait_until(lambda: not sse.subscribers)  # a vanished client is noticed without a write


def test_an_http10_client_gets_a_close_delimited_stream(source_at):
    sse, base = source_at(heartbeat=None)
    host, port = base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        received = b""
        while b"\r\n\r\n:\n\n" not in received:
            received += sock.recv(4096)
        assert b"chunked" not in received.lower()
        sse_send_event(sse, data="plain")
        while b"data: plain\n\n" not in received:
            received += sock.recv(4096)
        sse.subscribers.copy().pop().end()  # a graceful stop's end: EOF delimits the body
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        assert received.endswith(b"data: plain\n\n")


def test_a_replay_that_cannot_be_read_asks_the_client_to_retry(served):
    from dispatch.sse.broker import BrokerUnavailable

    class Down(MemoryBroker):
        def replay(self, last_event_id):
            raise BrokerUnavailable("redis is away")

    sse = make_sse(Down(10))
    base = served(sse_dispatcher(sse))
    host, port = base.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 7\r\nConnection: close\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ") and b"text/event-stream" in head
    assert body == b"retry: 1000\n\n" and not sse.subscribers
