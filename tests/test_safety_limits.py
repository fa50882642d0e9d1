"""Safety limits over real sockets: each bad client gets its answer, others go on."""
import os
import signal
import socket
import subprocess
import sys

import gevent
import pytest
import requests

from dispatch import lift
from dispatch.safety_limits import make_safety_limits
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from servlets import response_full
from tests.sse_client import RawSSE
from tests.support import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def text(body):
    return response_full(200, None, None, "text/plain", [], [body.encode()])


def port_of(base):
    return int(base.rsplit(":", 1)[1])


def exchange(base, data: bytes, timeout=5) -> bytes:
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # all sent: a truncated request stays truncated
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def still_serving(base):
    return requests.get(base + "/", timeout=5).status_code == 200


@pytest.fixture
def app_at(served):
    def start(**limits):
        return served(lift.make(lambda r: text("ok " + str(len(r.post_data)))),
                      safety_limits=make_safety_limits(**limits))
    return start


def test_a_slow_client_is_cut_after_the_request_read_timeout(app_at):
    base = app_at(request_read_timeout=0.3)
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # then nothing: slowloris
        reply = sock.recv(1000)
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert sock.recv(1000) == b""  # and closed
    assert still_serving(base)


def test_an_idle_keep_alive_connection_is_closed_after_the_read_timeout(app_at):
    base = app_at(request_read_timeout=0.3)
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while b"ok 0" not in reply:
            reply += sock.recv(1000)
        assert sock.recv(1000) == b""  # no next request within the time-out: closed


def test_an_over_long_request_line_is_414(app_at):
    base = app_at(max_request_line_length=100)
    assert exchange(base, b"GET /" + b"a" * 200 + b" HTTP/1.1\r\n\r\n").startswith(
        b"HTTP/1.1 414 ")
    assert still_serving(base)


def test_header_limits_are_configurable(app_at):
    base = app_at(max_request_headers=3, max_request_header_length=64)
    many = b"".join(b"X-%d: v\r\n" % i for i in range(4))
    assert exchange(base, b"GET / HTTP/1.1\r\n" + many + b"\r\n").startswith(b"HTTP/1.1 431 ")
    long = b"X-Long: " + b"v" * 100 + b"\r\n"
    assert exchange(base, b"GET / HTTP/1.1\r\n" + long + b"\r\n").startswith(b"HTTP/1.1 431 ")


def test_bodies_over_the_limit_are_413(app_at):
    base = app_at(max_request_body_length=1000)
    assert requests.post(base + "/", data=b"x" * 1000, timeout=5).text == "ok 1000"
    assert requests.post(base + "/", data=b"x" * 1001, timeout=5).status_code == 413


def test_beyond_max_concurrent_connections_the_next_ones_wait_their_turn(served):
    # Racket: max-concurrent connections are served; the others wait (max-waiting).
    release = gevent.event.Event()
    entered = []

    def slow(conn, request):
        entered.append(request.path)
        if request.path == "/hold":
            release.wait(10)
        conn.respond(text("done " + request.path))

    base = served(slow, safety_limits=make_safety_limits(max_concurrent=2))
    holders = [socket.create_connection(("127.0.0.1", port_of(base)), timeout=5)
               for _ in range(2)]
    for sock in holders:
        sock.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
    assert wait_until(lambda: len(entered) >= 2)
    waiting = socket.create_connection(("127.0.0.1", port_of(base)), timeout=5)
    waiting.sendall(b"GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    waiting.settimeout(0.3)
    with pytest.raises(socket.timeout):  # not served, not refused: waiting
        waiting.recv(1000)
    assert entered == ["/hold", "/hold"]
    release.set()
    for sock in holders:
        assert b"done /hold" in sock.recv(1000)
        sock.close()  # frees a place
    waiting.settimeout(5)
    assert b"done /third" in waiting.recv(1000)
    waiting.close()


@pytest.mark.parametrize("request_bytes", [
    b"NONSENSE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",  # truncated body
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabcdefGARBAGE\r\n\r\n",
])
def test_malformed_requests_get_an_answer_or_a_clean_close(app_at, request_bytes):
    base = app_at(request_read_timeout=1)
    reply = exchange(base, request_bytes)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 ")
    assert b" 500 " not in reply.split(b"\r\n", 1)[0]
    assert still_serving(base)


def test_response_headers_with_line_breaks_are_never_sent(served):
    def splitting(conn, request):
        conn.respond(response_full(200, None, None, "text/plain",
                                   [("X-Injected", "a\r\nSet-Cookie: evil=1")], [b"x"]))

    base = served(splitting)
    reply = exchange(base, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"evil" not in reply
    assert reply.startswith(b"HTTP/1.1 500 ")


def test_sigterm_stops_the_blocking_form_gracefully(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys\n"
        "from dispatch.server import serve_forever\n"
        "from dispatch.sse import make_sse, sse_dispatcher\n"
        "serve_forever(sse_dispatcher(make_sse(heartbeat=None)), port=int(sys.argv[1]),\n"
        "              listen_ip='127.0.0.1', stop_timeout=5)\n"
        "print('stopped cleanly', flush=True)\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=ROOT), text=True)
    try:
        with gevent.Timeout(15):
            while True:
                try:
                    stream = socket.create_connection(("127.0.0.1", port), timeout=5)
                    break
                except OSError:
                    gevent.sleep(0.05)
        stream.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert stream.recv(1000).startswith(b"HTTP/1.1 200 ")
        proc.send_signal(signal.SIGTERM)
        rest = b""
        while True:  # the stream ends with its last chunk, then the socket closes
            chunk = stream.recv(1000)
            if not chunk:
                break
            rest += chunk
        assert rest.endswith(b"0\r\n\r\n")
        assert proc.wait(10) == 0
        assert "stopped cleanly" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_sse_unaffected_by_the_read_timeout(served):
    sse = make_sse(heartbeat=None)
    base = served(sse_dispatcher(sse), safety_limits=make_safety_limits(request_read_timeout=0.2))
    client = RawSSE(base)
    gevent.sleep(0.5)  # longer than the read time-out: the stream must stay open
    sse_send_event(sse, data="after the time-out")
    assert client.events(1) == [{"data": "after the time-out"}]
    client.close()


def test_a_raw_non_ascii_request_target_is_400_not_500(app_at):
    # Found by tests/test_fuzz_http.py: werkzeug failed decoding such a query string.
    base = app_at()
    assert exchange(base, b"GET /?\x80 HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert exchange(base, b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
        b"HTTP/1.1 400 ")


def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(served):
    closed = gevent.event.Event()

    def endless(conn, request):
        def body():
            try:
                for _ in range(100_000):  # bounded: 6 GiB, far more than buffers hold
                    yield b"x" * 65536
            finally:
                closed.set()

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return body()

        conn.respond(app)

    base = served(endless, safety_limits=make_safety_limits(response_send_timeout=0.3))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port_of(base)))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # and never reads
    assert closed.wait(10)
    sock.close()
    with requests.get(base + "/", stream=True, timeout=5) as r:  # others still served
        assert r.status_code == 200


def test_a_client_trickling_its_head_byte_by_byte_is_still_cut(app_at):
    base = app_at(request_read_timeout=0.3)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    cut, reply = False, b""
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=5) as sock:
        with gevent.Timeout(5, AssertionError("the trickling client was never cut")):
            for byte in head:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    cut = True
                    break
                # The trickle itself: a byte every 20 ms resets any per-read time-out, so
                # only a deadline for the whole head can cut it.
                gevent.sleep(0.02)
                sock.setblocking(False)
                try:
                    chunk = sock.recv(1000)
                    reply += chunk
                    cut = True  # an answer, or b"": closed
                    break
                except BlockingIOError:
                    pass
                except OSError:
                    cut = True
                    break
                finally:
                    sock.setblocking(True)
    assert cut, "the whole head was trickled in without being cut"
    assert reply == b"" or reply.startswith(b"HTTP/1.1 408 ")


def test_stop_waits_for_requests_in_flight_and_closes_idle_ones(served):
    release, entered = gevent.event.Event(), []

    def slow(conn, request):
        entered.append(1)
        release.wait(10)
        conn.respond(text("finished"))

    base = served(slow)
    idle = socket.create_connection(("127.0.0.1", port_of(base)), timeout=5)  # no request
    busy = socket.create_connection(("127.0.0.1", port_of(base)), timeout=5)
    busy.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert wait_until(lambda: entered)
    gevent.spawn_later(0.2, release.set)
    served.stoppers[-1](timeout=5)  # returns once the request in flight has finished
    assert release.is_set()
    assert b"finished" in busy.recv(1000)
    assert idle.recv(1000) == b""  # closed without waiting for its deadline
    busy.close()
    idle.close()


def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(app_at):
    base = app_at(response_send_timeout=0.3)
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        received = b""
        with gevent.Timeout(4, AssertionError(f"no close after the 408: {received!r}")):
            while True:  # until the server closes (after its lingering close, ~1 s)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
    head = received.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), head
    assert b"\r\nConnection: close" in head
    assert still_serving(base)


def test_werkzeug_exceptions_answer_with_rfc_9110_reason_phrases(served):
    from werkzeug.exceptions import abort

    base = served(lift.make(lambda r: abort(int(r.args["code"]))))
    for code, reason in ((400, "Bad Request"), (413, "Content Too Large"),
                         (405, "Method Not Allowed"), (422, "Unprocessable Content")):
        reply = exchange(base, f"GET /?code={code} HTTP/1.1\r\nHost: x\r\n"
                               f"Connection: close\r\n\r\n".encode())
        assert reply.startswith(f"HTTP/1.1 {code} {reason}\r\n".encode()), reply[:60]


def test_a_burst_of_clients_is_accepted_no_further_than_max_concurrent(served):
    # gevent's accept loop takes up to max_accept (100) sockets per wake-up before any
    # handler runs: the limit is counted at the accept, not when a handler registers.
    limit, clients = 20, 60
    release = gevent.event.Event()
    base = served(lambda conn, request: (release.wait(10), conn.respond(text("ok"))),
                  safety_limits=make_safety_limits(max_concurrent=limit, max_waiting=100))
    server = served.stoppers[-1].server
    peak = []
    socks = [socket.create_connection(("127.0.0.1", port_of(base)), timeout=5)
             for _ in range(clients)]  # all connected (the backlog), before a wake-up
    for sock in socks:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert wait_until(lambda: len(server.connections) >= limit)
    for _ in range(20):  # a while longer: nothing more is accepted
        peak.append(len(server.connections))
        gevent.sleep(0.01)
    assert max(peak) == limit
    release.set()
    with gevent.Timeout(10):
        for sock in socks:  # the rest are served as places free up
            assert b" 200 " in sock.recv(1000)
            sock.close()
