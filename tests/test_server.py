"""dispatch.server over real sockets: ports, keep-alive, errors, upgrades, stopping."""
import socket

import gevent
import pytest
import requests

from dispatch import filter, lift, sequencer
from dispatch.http11.writer import COALESCE_LIMIT, ResponseWriter
from dispatch.server import serve
from servlets import response_full
from tests.http.rawhttp import Conn
from tests.support import wait_until


def text(body):
    return response_full(200, None, None, "text/plain", [], [body.encode()])


def test_port_zero_takes_a_free_port_and_stop_closes_it():
    stop = serve(lift.make(lambda r: text("up")), port=0, listen_ip="127.0.0.1")
    port = stop.port
    assert port > 0
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "up"
    stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_a_failing_request_does_not_disturb_others(served):
    def app(conn, request):
        if request.path == "/boom":
            raise RuntimeError("boom")
        conn.respond(text("fine"))

    base = served(app)
    with requests.Session() as s:
        assert s.get(base + "/boom", timeout=5).status_code == 500
        assert s.get(base + "/ok", timeout=5).text == "fine"  # same keep-alive connection
    assert requests.get(base + "/ok", timeout=5).text == "fine"


def test_accepted_sockets_have_tcp_nodelay(served):
    seen = []

    def app(conn, request):
        sock = conn.environ["gevent_dispatch.handler"].socket
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        conn.respond(text("ok"))

    requests.get(served(app), timeout=5)
    assert seen == [1]


def started(version="1.1", method="GET"):
    """A ResponseWriter whose application called start_response (framing as plain bytes:
    the writer is sans-I/O)."""
    response = ResponseWriter(method, version == "1.0", True)
    response.start("200 OK", [("Content-Type", "text/plain")])
    return response


def test_headers_and_a_small_body_leave_in_one_send():
    sends = started().whole(b"hello")
    assert len(sends) == 1
    assert sends[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 5\r\n" in sends[0]
    assert sends[0].endswith(b"\r\n\r\nhello")


def test_a_large_body_leaves_apart_from_the_headers():
    body = b"x" * (COALESCE_LIMIT + 1)
    head, sent = started().whole(body)
    assert head.endswith(b"Content-Length: %d\r\n" % len(body) + head[head.index(b"Date:"):])
    assert sent is body


def test_first_chunk_of_a_chunked_body_joins_the_headers():
    response = started()
    sends = response.write(b"hello") + response.write(b"world") + response.end()
    assert b"Transfer-Encoding: chunked\r\n" in sends[0]
    assert sends[0].endswith(b"\r\n\r\n5\r\nhello\r\n")
    assert sends[1:] == [b"5\r\nworld\r\n", b"0\r\n\r\n"]
    assert response.keep_alive


def test_a_streamed_http10_body_is_close_delimited():
    response = started(version="1.0")
    sends = response.write(b"hello") + response.write(b"world") + response.end()
    assert b"chunked" not in sends[0] and b"Content-Length" not in sends[0]
    assert sends[0].endswith(b"\r\n\r\nhello") and sends[1:] == [b"world"]
    assert not response.keep_alive


def test_head_sends_no_body_and_no_false_length():
    response = started(method="HEAD")
    sends = response.write(b"hello") + response.end()
    assert len(sends) == 1 and sends[0].endswith(b"\r\n\r\n")
    assert b"Content-Length" not in sends[0] and b"chunked" not in sends[0]


def test_a_body_longer_than_its_declared_length_is_cut_and_the_connection_ends():
    response = ResponseWriter("GET", False, True)
    response.start("200 OK", [("Content-Length", "3")])
    sends = response.write(b"ab") + response.write(b"cdef") + response.end()
    assert sends[0].endswith(b"\r\n\r\nab") and sends[1:] == [b"c"]
    assert not response.keep_alive


def test_a_body_shorter_than_its_declared_length_ends_the_connection():
    response = ResponseWriter("GET", False, True)
    response.start("200 OK", [("Content-Length", "10")])
    response.whole(b"short")
    assert not response.keep_alive


def test_start_response_twice_without_exc_info_is_an_error():
    response = started()
    with pytest.raises(AssertionError):
        response.start("500 Internal Server Error", [])
    response.start("500 Internal Server Error", [], exc_info=(None, None, None))
    assert response.status.startswith("500")


def test_upgrade_hands_over_the_socket_without_losing_early_bytes(served):
    def upgrader(conn, request):
        stream = conn.upgrade([("Upgrade", "echo"), ("Connection", "Upgrade")])
        data = b""
        while not data.endswith(b"!"):
            chunk = stream.read1(100)
            if not chunk:
                break
            data += chunk
        stream.sendall(data.upper())

    base = served(sequencer.make(filter.make("^/up$", upgrader), lift.make(lambda r: text("x"))))
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        # The protocol's first bytes arrive in the same packet as the request.
        sock.sendall(b"GET /up HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n"
                     b"\r\nearly bytes!")
        received = b""
        while b"EARLY BYTES!" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"content-length" not in head.lower() and b"chunked" not in head.lower()


def test_shutdown_callbacks_run_on_stop_and_can_be_cancelled(served):
    calls = []
    registered = gevent.event.Event()

    def app(conn, request):
        conn.at_shutdown(lambda: calls.append("kept"))
        cancel = conn.at_shutdown(lambda: calls.append("cancelled"))
        cancel()
        registered.set()
        conn.respond(text("ok"))

    base = served(app)
    requests.get(base, timeout=5)
    assert registered.wait(5)
    served.stoppers[-1]()
    assert calls == ["kept"]


def raw_exchange(base, request: bytes) -> bytes:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def echo_headers(conn, request):
    conn.respond(response_full(200, None, None, "text/plain", [], [
        repr(sorted((k, v) for k, v in conn.environ.items() if k.startswith("HTTP_"))).encode()]))


def test_request_headers_reach_the_environ(served):
    base = served(echo_headers)
    reply = raw_exchange(base, b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a:  2 \r\n"
                               b"X_B: smuggled\r\nConnection: close\r\n\r\n")
    body = reply.split(b"\r\n\r\n", 1)[1]
    assert b"('HTTP_X_A', '1, 2')" in body
    assert b"smuggled" not in body  # underscores could pose as dashes: dropped


def test_too_many_request_headers_is_431_and_the_server_goes_on(served):
    base = served(echo_headers)
    many = b"".join(b"X-%d: v\r\n" % i for i in range(101))
    reply = raw_exchange(base, b"GET / HTTP/1.1\r\nHost: h\r\n" + many + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ")
    assert requests.get(base, timeout=5).status_code == 200


def test_a_too_long_request_header_is_431(served):
    base = served(echo_headers)
    reply = raw_exchange(base, b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize("line", [b"No colon here", b"Bad : space", b" folded: line", b": empty"])
def test_malformed_request_header_lines_are_400(served, line):
    base = served(echo_headers)
    reply = raw_exchange(base, b"GET / HTTP/1.1\r\nHost: h\r\n" + line + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_an_idle_keep_alive_connection_parks_without_a_greenlet_and_serves_again(served):
    base = served(lift.make(lambda r: text("hi " + r.path)))
    server = served.stoppers[-1].server
    server.park_after = 0.05
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"hi /one")
        [conn] = server.connections
        assert wait_until(lambda: conn.greenlet is None)  # parked: a watcher waits, no greenlet
        s.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"hi /two")
        assert conn.greenlet is not None
    assert wait_until(lambda: not server.connections)


def test_a_parked_connection_is_closed_at_its_idle_deadline(served):
    from dispatch.safety_limits import make_safety_limits

    base = served(lift.make(lambda r: text("hi")),
                  safety_limits=make_safety_limits(request_read_timeout=0.3))
    server = served.stoppers[-1].server
    server.park_after = 0.05
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"hi")
        assert s.recv(1000) == b""  # closed by the server once idle for 0.3 s
    assert wait_until(lambda: not server.connections)


@pytest.fixture
def connection_yields(monkeypatch):
    """The greenlets that gave up their turn with ``gevent.sleep(0)``, one per call."""
    yields = []
    sleep = gevent.sleep

    def recording(seconds=0, ref=True):
        if seconds == 0:
            yields.append(gevent.getcurrent())
        return sleep(seconds, ref)

    monkeypatch.setattr(gevent, "sleep", recording)
    return yields


def keep_alive_get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def test_a_keep_alive_client_that_waits_for_each_answer_costs_no_extra_turn(
        served, connection_yields):
    """Its connection waits for every request, and the hub runs the others then; a
    yield on top would put a turn of the hub between the request and its answer."""
    base = served(lift.make(lambda r: text("hi " + r.path)))
    with Conn(int(base.rsplit(":", 1)[1])) as c:
        for n in range(12):
            assert c.send(keep_alive_get(f"/{n}"))
            reply = c.reply()
            assert (reply.status, reply.body) == (200, f"hi /{n}".encode())
    assert connection_yields == []


def test_a_pipelining_client_gives_the_others_their_turn(served, connection_yields):
    """Twenty requests in one send need no wait: the connection yields every few."""
    base = served(lift.make(lambda r: text("hi " + r.path)))
    server = served.stoppers[-1].server
    paths = [f"/{n}" for n in range(20)]
    with Conn(int(base.rsplit(":", 1)[1])) as c:
        assert c.send(b"".join(keep_alive_get(p) for p in paths))
        answers = [c.reply() for _ in paths]
        assert [(a.status, a.body) for a in answers] == [
            (200, f"hi {p}".encode()) for p in paths]
        [conn] = server.connections
        assert connection_yields.count(conn.greenlet) >= 2


def test_serving_without_monkey_patching_warns_once_naming_patch_all():
    import ast
    import os
    import subprocess
    import sys

    program = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from dispatch.server import serve\n"
        "from dispatch import lift\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    for _ in range(2):\n"
        "        serve(lift.make(lambda r: None), port=0, listen_ip='127.0.0.1')()\n"
        "print([str(w.message) for w in caught if w.category is RuntimeWarning])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=60, cwd=root)
    messages = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert len(messages) == 1 and "gevent.monkey.patch_all()" in messages[0]


def test_a_tls_keep_alive_connection_parks_and_serves_again(served):
    import os
    import ssl

    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "racket", "fixtures")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(fixtures, "cert.pem"), os.path.join(fixtures, "key.pem"))
    base = served(lift.make(lambda r: text("hi " + r.path)), ssl_context=context)
    server = served.stoppers[-1].server
    server.park_after = 0.05
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    port = int(base.rsplit(":", 1)[1])
    with client.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5)) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"hi /one")
        [conn] = server.connections
        assert wait_until(lambda: conn.greenlet is None)  # parked (gevent would close TLS here)
        s.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"hi /two")
