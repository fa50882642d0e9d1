"""dispatch.websocket and dispatch.sse against hostile or dead peers, over real sockets:
bounded memory (server RSS from /proc), dead peers dropped, clean closes, quiet logs."""
import base64
import gc
import logging
import os
import socket
import struct
import subprocess
import sys
import time
import zlib

import gevent
import pytest
from greenlet import greenlet

from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.websocket import (
    EOF,
    ConnectionClosed,
    DeflateOptions,
    WSOptions,
    is_eof,
    make_general_websockets_dispatcher,
    ws_close,
    ws_conn_close_status,
    ws_connect,
    ws_recv,
    ws_send,
)
from dispatch.websocket.protocol import mask_payload
from dispatch.websocket.timers import TimerHeap, timers
from tests.http.rawhttp import Conn
from tests.support import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid="self"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def echo(conn, state=None):
    while True:
        message = ws_recv(conn)
        if is_eof(message):
            return
        ws_send(conn, message, payload_type="binary" if isinstance(message, bytes) else "text")


def port_of(base):
    return int(base.rsplit(":", 1)[1])


def handshake(port, extensions=None, timeout=5, path="/"):
    """A raw client: the socket and the response head (and what followed it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16))
    extra = b"Sec-WebSocket-Extensions: " + extensions.encode() + b"\r\n" if extensions else b""
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                 b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return sock, head, rest


def frame(opcode, payload, rsv1=False, fin=True, declared=None):
    """A masked client frame (mask key 0: the payload goes as it is)."""
    n = len(payload) if declared is None else declared
    b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    return head + b"\x00\x00\x00\x00" + payload


def read_close(sock, rest=b"", timeout=5.0):
    """Read frames until a close frame; its code (None at end of stream)."""
    data = rest
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while len(data) >= 2:
            n, head = data[1] & 0x7F, 2
            if n == 126:
                n, head = struct.unpack("!H", data[2:4])[0], 4
            elif n == 127:
                n, head = struct.unpack("!Q", data[2:10])[0], 10
            if len(data) < head + n:
                break
            if data[0] & 0x0F == 0x8:
                return struct.unpack("!H", data[head:head + 2])[0] if n >= 2 else 1005
            data = data[head + n:]
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    raise AssertionError("no close frame in time")


# -- permessage-deflate ------------------------------------------------------------------

def test_a_compressed_frame_declaring_a_terabyte_closes_1009_at_once(served):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head, rest = handshake(port_of(base), "permessage-deflate")
    assert b"permessage-deflate" in head
    before = rss_kib()
    sock.sendall(frame(0x2, b"", rsv1=True, declared=1 << 40)[:14])
    junk = b"\x00" * (1 << 20)
    sent = 0
    sock.settimeout(2)
    try:  # the server skips what follows until our close frame: it never buffers it
        for _ in range(32):
            sock.sendall(junk)
            sent += len(junk)
    except OSError:
        pass
    assert read_close(sock, rest) == 1009
    print(f"2^40-byte compressed frame: {sent >> 20} MiB sent, server RSS "
          f"{rss_kib() - before:+d} KiB")
    assert rss_kib() - before < 8 * 1024, "the server buffered the frame"
    sock.close()


def test_a_deflate_bomb_closes_1009_once_inflated_past_the_limit(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(max_message_size=1 << 20)))
    sock, head, rest = handshake(port_of(base), "permessage-deflate")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"\x00" * (64 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 100_000  # 64 MiB in under 100 kB
    mask_payload(b"abcd", bytes(len(bomb)))  # what a frame this large loads (numpy), first
    before = rss_kib()
    sock.sendall(frame(0x2, bomb[:-4], rsv1=True))
    assert read_close(sock, rest) == 1009
    assert rss_kib() - before < 8 * 1024
    sock.close()


def test_window_bits_take_ascii_digits_only(served):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head, rest = handshake(port_of(base), "permessage-deflate; server_max_window_bits=²")
    assert head.startswith(b"HTTP/1.1 101 ")  # the offer is declined, not a 500
    assert b"permessage-deflate" not in head
    sock.sendall(frame(0x1, b"hi"))
    assert sock.recv(100) == b"\x81\x02hi"
    sock.close()


# -- bounded queue, send time-out, keep-alive -----------------------------------------------

def test_a_flood_to_a_handler_that_never_reads_is_bounded_and_pushed_back(served):
    done = gevent.event.Event()

    def sender_only(c, state):  # never calls ws_recv
        done.wait(20)

    base = served(make_general_websockets_dispatcher(sender_only, options=WSOptions(
        ping_interval=0.05, pong_timeout=30, max_queue=16)))
    sock, head, rest = handshake(port_of(base))
    message = frame(0x2, b"f" * 65536)
    mask_payload(b"abcd", bytes(65536))  # what a frame this large loads (numpy), first
    before = rss_kib()
    sent = 0
    sock.settimeout(1.0)
    try:
        for _ in range(1536):  # 96 MiB offered
            sock.sendall(message)
            sent += len(message)
    except socket.timeout:
        pass  # backpressure: the server stopped reading
    grown = rss_kib() - before
    print(f"flood: {sent >> 20} MiB taken before backpressure, server RSS {grown:+d} KiB")
    done.set()
    sock.close()
    assert sent < 48 << 20, f"the server read {sent >> 20} MiB and kept reading"
    # 16 queued messages of 64 KiB and one read's worth: about 1 MiB.
    assert grown < 12 * 1024, f"server RSS grew {grown} KiB"


def test_a_peer_that_does_not_read_is_dropped_after_the_send_timeout(served):
    outcome = gevent.event.AsyncResult()

    def pusher(c, state):
        started = time.monotonic()
        try:
            for _ in range(100_000):
                ws_send(c, b"p" * 65536, payload_type="binary")
            outcome.set(("sent everything", 0))
        except ConnectionClosed:
            outcome.set(("dropped", time.monotonic() - started))

    base = served(make_general_websockets_dispatcher(pusher, options=WSOptions(
        send_timeout=0.3, ping_interval=None)))
    sock, head, rest = handshake(port_of(base))  # never reads
    what, after = outcome.get(15)
    assert what == "dropped" and after < 10
    sock.close()


def test_pong_timeout_fires_while_a_send_is_blocked(served):
    outcome = gevent.event.AsyncResult()

    def pusher(c, state):
        try:
            for _ in range(100_000):
                ws_send(c, b"p" * 65536, payload_type="binary")
            outcome.set("sent everything")
        except ConnectionClosed:
            outcome.set("dropped")

    base = served(make_general_websockets_dispatcher(pusher, options=WSOptions(
        send_timeout=None, ping_interval=0.1, pong_timeout=0.3)))
    sock, head, rest = handshake(port_of(base))  # never reads, never answers pings
    assert outcome.get(10) == "dropped"
    sock.close()


def test_idle_close_fires_while_a_send_is_blocked(served):
    outcome = gevent.event.AsyncResult()

    def pusher(c, state):
        try:
            for _ in range(100_000):
                ws_send(c, b"p" * 65536, payload_type="binary")
            outcome.set("sent everything")
        except ConnectionClosed:
            outcome.set("dropped")

    base = served(make_general_websockets_dispatcher(pusher, options=WSOptions(
        send_timeout=None, ping_interval=None, idle_timeout=0.2, close_timeout=0.3)))
    sock, head, rest = handshake(port_of(base))
    assert outcome.get(10) == "dropped"
    sock.close()


def live_greenlets():
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)


def test_keepalive_uses_one_timer_heap_not_a_greenlet_per_connection(served):
    base = served(make_general_websockets_dispatcher(echo))  # pings every 20 s
    first = ws_connect(base.replace("http", "ws") + "/")  # starts the heap's greenlet
    ws_send(first, "x")
    assert ws_recv(first) == "x"
    before = live_greenlets()
    clients = [ws_connect(base.replace("http", "ws") + "/") for _ in range(20)]
    for c in clients:
        ws_send(c, "x")
        assert ws_recv(c) == "x"
    # One greenlet per connection (its handler), none for keep-alive: ``ws_connect``'s
    # clients have none. A keep-alive greenlet each would make it 40.
    assert live_greenlets() - before <= 24
    assert len(timers()) >= 20  # an entry each on the one heap
    for c in [first] + clients:
        ws_close(c)


# -- closes ------------------------------------------------------------------------------------

def test_invalid_close_codes_and_reasons_are_refused_and_leave_the_connection_usable(served):
    result = gevent.event.AsyncResult()

    def handler(c, state):
        errors = []
        for status, reason in ((1000, "x" * 124), (5000, ""), (1005, ""), (999, ""),
                               (2999, ""), (1000, "é" * 62)):
            try:
                ws_close(c, status, reason)
            except ValueError:
                errors.append(status)
        ws_send(c, "still open")
        ws_close(c, 4000, "é" * 61)  # 122 bytes of UTF-8: allowed
        result.set(errors)

    base = served(make_general_websockets_dispatcher(handler))
    c = ws_connect(base.replace("http", "ws") + "/")
    assert ws_recv(c) == "still open"
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 4000
    assert result.get(5) == [1000, 5000, 1005, 999, 2999, 1000]


def test_a_failing_handler_closes_1011_and_logs_one_record(served, caplog):
    def handler(c, state):
        ws_recv(c)
        raise RuntimeError("a bug in the handler")

    base = served(make_general_websockets_dispatcher(handler))
    caplog.set_level(logging.INFO)
    c = ws_connect(base.replace("http", "ws") + "/")
    ws_send(c, "go")
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 1011
    records = [r for r in caplog.records if r.exc_info]
    assert len(records) == 1 and "a bug in the handler" in str(records[0].exc_info[1])


def test_an_oversized_message_without_deflate_gets_1009_not_a_broken_pipe(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(max_message_size=1 << 20)))
    sock, head, rest = handshake(port_of(base))
    assert b"permessage-deflate" not in head
    sock.settimeout(5)
    sock.sendall(frame(0x2, b"z" * (3 << 20)))  # the whole of it goes: no broken pipe
    assert read_close(sock, rest) == 1009
    sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xf1")  # our close answer is read
    sock.close()


def test_an_oversized_message_from_the_client_library_gets_1009(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(max_message_size=1000)))
    c = ws_connect(base.replace("http", "ws") + "/", deflate=DeflateOptions(enabled=False),
                   options=WSOptions(ping_interval=None, max_message_size=None))
    ws_send(c, "y" * 100_000)
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 1009


# -- expected drops: one INFO line, no traceback -----------------------------------------------

def test_a_dropped_sse_client_logs_one_info_line_and_no_traceback(served, caplog, capfd):
    sse = make_sse(queue_limit=4, heartbeat=None)
    base = served(sse_dispatcher(sse))
    caplog.set_level(logging.DEBUG)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port_of(base)))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert wait_until(lambda: len(sse.subscribers) == 1)
    big = "x" * 65536
    with gevent.Timeout(10):
        for _ in range(200):
            sse_send_event(sse, data=big)
            gevent.sleep(0)
            if not sse.subscribers:
                break
    assert wait_until(lambda: not sse.subscribers)  # dropped: the stream ended and logged why
    sock.close()
    drops = [r for r in caplog.records if "dropping an SSE client" in r.getMessage()]
    assert len(drops) == 1 and drops[0].levelno == logging.INFO, caplog.text
    loud = [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert not loud, caplog.text
    err = capfd.readouterr().err
    assert "Traceback" not in err and "cancel_wait" not in err


def test_a_dead_websocket_peer_logs_one_info_line_and_no_traceback(served, caplog, capfd):
    finished = gevent.event.Event()

    def pusher(c, state):
        try:
            for _ in range(100_000):
                ws_send(c, b"p" * 65536, payload_type="binary")
        finally:
            finished.set()

    base = served(make_general_websockets_dispatcher(pusher, options=WSOptions(
        send_timeout=0.3, ping_interval=None)))
    caplog.set_level(logging.DEBUG)
    sock, head, rest = handshake(port_of(base), path="/dead-peer")
    assert finished.wait(10)

    def dropped():
        return any("/dead-peer" in r.getMessage() for r in caplog.records)

    assert wait_until(dropped)  # the drop is logged as the handler's send fails
    sock.close()
    # (Connections of earlier tests may be dropped meanwhile: this one is /dead-peer.)
    drops = [r for r in caplog.records if "/dead-peer" in r.getMessage()]
    assert len(drops) == 1 and drops[0].levelno == logging.INFO, caplog.text
    assert "send timeout" in drops[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert "Traceback" not in capfd.readouterr().err


# -- memory of an idle connection ------------------------------------------------------------

IDLE_SERVER = r"""
import sys
from gevent import monkey
monkey.patch_all()
sys.path.insert(0, sys.argv[2])
import dispatch.filter
import dispatch.lift
import dispatch.sequencer
from dispatch.server import serve_forever
from dispatch.websocket import make_general_websockets_dispatcher, ws_recv
from werkzeug.wrappers import Response

parked = 0

def idle(c, state):
    global parked
    parked += 1  # the handler is about to wait: the connection is as idle as it gets
    ws_recv(c)

serve_forever(dispatch.sequencer.make(
    dispatch.filter.make("^/parked$", dispatch.lift.make(lambda r: Response(str(parked)))),
    make_general_websockets_dispatcher(idle)), port=int(sys.argv[1]), listen_ip="127.0.0.1")
"""


def parked_handlers(port: int) -> int:
    """How many of the idle server's WebSocket handlers have started waiting."""
    with Conn(port) as client:
        client.send(b"GET /parked HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = client.reply()
    assert reply.status == 200, reply
    return int(reply.body)


def test_an_idle_websocket_costs_little_server_rss(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "idle_server.py"
    script.write_text(IDLE_SERVER)
    server = subprocess.Popen([sys.executable, str(script), str(port), ROOT],
                              env=dict(os.environ, PYTHONPATH=ROOT))
    clients = []
    try:
        def listening():
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True

        assert wait_until(listening, 15, 0.05, ignoring=OSError), "the server did not start"
        for _ in range(50):  # warm up: first connections allocate pools
            clients.append(handshake(port)[0])
        assert wait_until(lambda: parked_handlers(port) == 50, 10)
        before = rss_kib(server.pid)
        for _ in range(1000):
            sock, head, rest = handshake(port)
            assert head.startswith(b"HTTP/1.1 101 ")
            clients.append(sock)
        assert wait_until(lambda: parked_handlers(port) == 1050, 10)
        per_connection = (rss_kib(server.pid) - before) / 1000
        print(f"idle WebSocket: {per_connection:.1f} KiB of server RSS")
        # 30.4 KiB with a keep-alive greenlet per connection; about 19 now, of which the
        # WebSocket layer's own objects are about 2 (the rest is the HTTP server's
        # per-connection state and the handler greenlet's stack).
        assert per_connection <= 24, f"{per_connection:.1f} KiB per idle WebSocket"
    finally:
        for sock in clients:
            sock.close()
        server.kill()
        server.wait()


@pytest.mark.parametrize("extensions", ["permessage-deflate; client_max_window_bits=1x",
                                        "permessage-deflate; server_max_window_bits=٣"])
def test_malformed_extension_params_are_declined_not_500(served, extensions):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head, rest = handshake(port_of(base), extensions)
    assert head.startswith(b"HTTP/1.1 101 ") and b"permessage-deflate" not in head
    sock.close()


def test_the_timer_heap_calls_in_order_and_skips_cancelled_entries():
    heap = TimerHeap()
    calls = []
    now = time.monotonic()
    entries = [heap.call_at(now + d, lambda d=d: calls.append(d)) for d in (0.03, 0.01, 0.02)]
    heap.cancel(entries[2])
    done = gevent.event.Event()
    heap.call_at(now + 0.05, done.set)
    assert done.wait(5)
    assert calls == [0.01, 0.03]
    assert len(heap) == 0


def test_the_timer_heap_drops_cancelled_entries_once_they_are_most_of_it():
    heap = TimerHeap()
    far = time.monotonic() + 3600
    entries = [heap.call_at(far, lambda: None) for _ in range(3000)]
    for entry in entries[:2500]:
        heap.cancel(entry)
    assert len(heap) == 500 and len(heap._heap) < 3000
    heap._runner.kill()


def test_pings_stop_during_the_closing_handshake_and_other_greenlets_run(served):
    def handler(c, state):
        pass  # returns at once: the server sends its close and waits for the peer's

    base = served(make_general_websockets_dispatcher(handler, options=WSOptions(
        ping_interval=0.01, pong_timeout=5, close_timeout=0.5)))
    sock, head, rest = handshake(port_of(base))  # reads, never answers the close
    started, ticks = time.monotonic(), 0
    while time.monotonic() - started < 0.3 and ticks < 1000:
        gevent.sleep(0.01)  # a ping deadline left in the past once starved the hub
        ticks += 1
    assert ticks >= 5
    assert read_close(sock, rest) == 1000
    sock.settimeout(5)
    assert sock.recv(100) == b""  # dropped after the close time-out
    sock.close()


@pytest.mark.parametrize("field", ["ping_interval", "pong_timeout", "idle_timeout",
                                   "send_timeout", "close_timeout", "max_queue"])
def test_options_refuse_values_that_would_spin_or_never_read(field):
    with pytest.raises(ValueError):
        WSOptions(**{field: 0})
