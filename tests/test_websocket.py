"""dispatch.websocket over real sockets: both Racket interfaces, fall-through, handshakes,
limits, keep-alive, the client (ws:// and wss://)."""
import base64
import io
import os
import shutil
import socket
import ssl
import struct
import subprocess

import gevent
import pytest
import requests

from dispatch import filter, sequencer
from dispatch.websocket import (
    EOF,
    DeflateOptions,
    HandshakeFailed,
    WSOptions,
    is_eof,
    make_general_websockets_dispatcher,
    make_service_mapper_dispatcher,
    ws_close,
    ws_conn_close_reason,
    ws_conn_close_status,
    ws_conn_closed,
    ws_conn_headers,
    ws_conn_line,
    ws_conn_subprotocol,
    ws_connect,
    ws_recv,
    ws_recv_evt,
    ws_recv_stream,
    ws_send,
    ws_serve,
    ws_serve_star,
    ws_service_mapper,
    ws_url,
    wss_url,
)
from servlets import dispatch_servlet, response_xexpr


def echo(conn, state=None):
    while True:
        message = ws_recv(conn)
        if is_eof(message):
            return
        ws_send(conn, message, payload_type="binary" if isinstance(message, bytes) else "text")


def page(request):
    return response_xexpr(("p", "page at " + request.path))


def ws_base(base):
    return base.replace("http://", "ws://")


def test_legacy_interface_as_in_the_seed(served):
    def a_conn_dispatch(c, s):
        message = ws_recv(c)
        ws_send(c, message + " world!\n")

    base = served(sequencer.make(
        filter.make("^/ws_test", make_general_websockets_dispatcher(a_conn_dispatch)),
        dispatch_servlet(page)))
    c = ws_connect(ws_base(base) + "/ws_test")
    ws_send(c, "Hello")
    assert ws_recv(c) == "Hello world!\n"
    assert ws_recv(c) is EOF  # the handler returned: the server closed cleanly
    assert ws_conn_close_status(c) == 1000
    assert requests.get(base + "/", timeout=5).text == "<p>page at /</p>"


def test_conn_headers_sees_the_handshake_and_passes_state(served):
    seen = []

    def conn_headers(line, headers):
        seen.append((line, headers.get("X-Token")))
        return [("X-Extra", "yes")], {"user": headers.get("X-Token")}

    def handler(c, state):
        ws_send(c, state["user"])

    base = served(make_general_websockets_dispatcher(handler, conn_headers))
    c = ws_connect(ws_base(base) + "/p?q=1", headers={"X-Token": "alice"})
    assert ws_recv(c) == "alice"
    assert seen == [("GET /p?q=1 HTTP/1.1", "alice")]


def test_service_mapper_paths_subprotocols_and_fall_through(served):
    def chat(c):
        ws_send(c, "chat:" + str(ws_conn_subprotocol(c)))

    def plain(c):
        ws_send(c, "plain:" + str(ws_conn_subprotocol(c)))

    mapper = ws_service_mapper(
        ("^/ws_test", ([None], plain), (["chat", "chat.v2"], chat)),
        ("^/other/[0-9]+", ([None], plain)))
    base = served(sequencer.make(
        filter.make("^/", make_service_mapper_dispatcher(mapper)),
        dispatch_servlet(page, regexp="^/page")))
    ws = ws_base(base)
    assert ws_recv(ws_connect(ws + "/ws_test")) == "plain:None"
    c = ws_connect(ws + "/ws_test", protocols=["chat.v2", "x"])
    assert ws_recv(c) == "chat:chat.v2" and ws_conn_subprotocol(c) == "chat.v2"
    assert ws_recv(ws_connect(ws + "/other/42")) == "plain:None"
    # Whole-path matching: a longer path is not served.
    with pytest.raises(HandshakeFailed) as refused:
        ws_connect(ws + "/ws_test/more")
    assert " 404 " in refused.value.status
    # A subprotocol nobody speaks is declined, not upgraded.
    with pytest.raises(HandshakeFailed) as refused:
        ws_connect(ws + "/ws_test", protocols=["nope"])
    assert " 404 " in refused.value.status
    # An upgrade request for a servlet's path gets the servlet's page, never a 101.
    with pytest.raises(HandshakeFailed) as refused:
        ws_connect(ws + "/page")
    assert " 200 " in refused.value.status


def raw_handshake(base, path="/", extra=b"", version=b"13", key=None):
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = key if key is not None else base64.b64encode(os.urandom(16))
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                 b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + key +
                 b"\r\nSec-WebSocket-Version: " + version + b"\r\n" + extra + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, head


def test_an_independent_raw_client_gets_a_valid_handshake_and_frames(served):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head = raw_handshake(base, key=b"dGhlIHNhbXBsZSBub25jZQ==")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head  # RFC 6455 1.3
    key = b"\x01\x02\x03\x04"
    payload = b"Hello"
    sock.sendall(b"\x81\x85" + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload)))
    answer = sock.recv(100)
    assert head.split(b"\r\n\r\n", 1)[1] + answer == b"\x81\x05Hello"
    sock.close()


@pytest.mark.parametrize("kwargs, status", [
    ({"version": b"8"}, b"426"), ({"key": b"short"}, b"400"), ({"key": b""}, b"400"),
])
def test_bad_handshakes_get_the_rfc_answers(served, kwargs, status):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head = raw_handshake(base, **kwargs)
    assert head.split(b" ")[1] == status
    if status == b"426":
        assert b"Sec-WebSocket-Version: 13" in head
    sock.close()


def test_origin_allow_list(served):
    base = served(make_general_websockets_dispatcher(echo, origins=["https://good.example"]))
    sock, head = raw_handshake(base, extra=b"Origin: https://evil.example\r\n")
    assert head.startswith(b"HTTP/1.1 403 ")
    sock.close()
    c = ws_connect(ws_base(base) + "/", headers={"Origin": "https://good.example"})
    ws_send(c, "ok")
    assert ws_recv(c) == "ok"


def test_oversized_messages_close_with_1009(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(max_message_size=1000)))
    c = ws_connect(ws_base(base) + "/")
    ws_send(c, "x" * 1000)
    assert ws_recv(c) == "x" * 1000
    ws_send(c, "x" * 1001)
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 1009


def test_invalid_utf8_closes_with_1007(served):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head = raw_handshake(base)
    sock.sendall(b"\x81\x82\x00\x00\x00\x00\xc3\x28")
    frame = sock.recv(100)
    assert frame[0] == 0x88 and struct.unpack("!H", frame[2:4])[0] == 1007
    sock.close()


def test_a_peer_that_never_answers_pings_is_dropped(served):
    closed = gevent.event.Event()

    def handler(c, state):
        try:
            assert ws_recv(c) is EOF
        finally:
            closed.set()

    base = served(make_general_websockets_dispatcher(
        handler, options=WSOptions(ping_interval=0.05, pong_timeout=0.1)))
    sock, head = raw_handshake(base)  # reads nothing, answers nothing
    assert closed.wait(5)
    sock.close()


def test_a_live_peer_answers_pings_and_stays(served):
    received = []

    def handler(c, state):
        received.append(ws_recv(c))

    base = served(make_general_websockets_dispatcher(
        handler, options=WSOptions(ping_interval=0.02, pong_timeout=1)))
    c = ws_connect(ws_base(base) + "/")
    # The client answers pings while it waits in ws_recv_evt; several intervals pass.
    evt = ws_recv_evt(c)
    assert not evt.wait(0.2)
    ws_send(c, "still here")
    assert evt.get(5) is EOF
    assert received == ["still here"]


def test_idle_timeout_closes_with_1001(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(idle_timeout=0.1, ping_interval=None)))
    c = ws_connect(ws_base(base) + "/")
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 1001


def test_fragments_streams_and_binary(served):
    base = served(make_general_websockets_dispatcher(echo))
    c = ws_connect(ws_base(base) + "/", deflate=DeflateOptions(enabled=False))
    ws_send(c, "one ", final_fragment=False)
    ws_send(c, "two", payload_type="continuation")
    assert ws_recv(c) == "one two"
    blob = os.urandom(200_000)
    ws_send(c, io.BytesIO(blob), payload_type="binary")
    stream = ws_recv_stream(c)
    assert stream.read() == blob
    ws_send(c, "text")
    assert ws_recv(c, payload_type="binary") == b"text"
    with pytest.raises(ValueError):
        ws_send(c, "x", payload_type="continuation")


def test_deflate_is_negotiated_by_default_and_can_be_refused(served):
    base = served(make_general_websockets_dispatcher(echo))
    c = ws_connect(ws_base(base) + "/")
    assert c.protocol.deflate is not None
    ws_send(c, "compress me " * 1000)
    assert ws_recv(c) == "compress me " * 1000
    off = served(make_general_websockets_dispatcher(echo, deflate=DeflateOptions(enabled=False)))
    c2 = ws_connect(ws_base(off) + "/")
    assert c2.protocol.deflate is None
    ws_send(c2, "plain")
    assert ws_recv(c2) == "plain"


def test_close_from_the_client_with_status_and_reason(served):
    seen = gevent.event.AsyncResult()

    def handler(c, state):
        ws_recv(c)
        seen.set((ws_conn_closed(c), ws_conn_close_status(c), ws_conn_close_reason(c),
                  ws_conn_line(c)))

    base = served(make_general_websockets_dispatcher(handler))
    c = ws_connect(ws_base(base) + "/bye")
    ws_close(c, 4001, "done")
    assert seen.get(5) == (True, 4001, "done", "GET /bye HTTP/1.1")
    assert ws_conn_closed(c)


def test_server_stop_closes_websockets_with_1001(served):
    started = gevent.event.Event()

    def handler(c, state):
        started.set()
        ws_recv(c)

    base = served(make_general_websockets_dispatcher(handler))
    c = ws_connect(ws_base(base) + "/")
    assert started.wait(5)
    served.stoppers[-1](timeout=2)
    assert ws_recv(c) is EOF
    assert ws_conn_close_status(c) == 1001


def test_ws_serve_and_ws_serve_star_on_their_own_ports():
    stop = ws_serve(echo, port=0, listen_ip="127.0.0.1")
    stop_star = ws_serve_star(ws_service_mapper(("/e", ([None], echo))), port=0,
                              listen_ip="127.0.0.1")
    try:
        for url in (f"ws://127.0.0.1:{stop.port}/", f"ws://127.0.0.1:{stop_star.port}/e"):
            c = ws_connect(url)
            ws_send(c, b"\x00bin", payload_type="binary")
            assert ws_recv(c) == b"\x00bin"
            ws_close(c)
    finally:
        stop()
        stop_star()


def test_service_mapper_dict_form():
    handler = object()
    mapper = ws_service_mapper({"^/a": {None: handler, "p": handler}})
    assert mapper("/a", []) == (None, handler)
    assert mapper("/a", ["q", "p"]) == ("p", handler)
    assert mapper("/a", ["q"]) is None and mapper("/b", []) is None


def test_url_predicates():
    assert ws_url("ws://h/") and not ws_url("wss://h/")
    assert wss_url("wss://h/") and not wss_url("http://h/")


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_wss_with_a_verified_certificate(served, certificate):
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    base = served(sequencer.make(filter.make("^/ws", make_general_websockets_dispatcher(echo)),
                                 dispatch_servlet(page)), ssl_context=server_context)
    port = base.rsplit(":", 1)[1]
    client_context = ssl.create_default_context(cafile=cert)
    c = ws_connect(f"wss://127.0.0.1:{port}/ws", ssl_context=client_context)
    ws_send(c, "secure")
    assert ws_recv(c) == "secure"
    ws_close(c)
    assert requests.get(f"https://127.0.0.1:{port}/", verify=cert, timeout=5).status_code == 200


def test_one_message_larger_than_the_send_buffer_still_goes(served):
    base = served(make_general_websockets_dispatcher(
        echo, options=WSOptions(max_send_buffer=1000, max_message_size=None)))
    c = ws_connect(ws_base(base) + "/", deflate=DeflateOptions(enabled=False),
                   options=WSOptions(ping_interval=None, max_message_size=None))
    ws_send(c, b"x" * 100_000, payload_type="binary")
    assert ws_recv(c) == b"x" * 100_000


def test_senders_piling_up_behind_a_slow_peer_drop_it(served):
    outcome = gevent.event.AsyncResult()

    def flood(c, state):
        from dispatch.websocket import ConnectionClosed

        payload = b"y" * 65536
        try:
            senders = [gevent.spawn(ws_send, c, payload, payload_type="binary")
                       for _ in range(200)]
            gevent.joinall(senders, timeout=10)
            outcome.set(any(isinstance(g.exception, ConnectionClosed) for g in senders))
        except Exception as exc:  # pragma: no cover - reported through the result
            outcome.set(exc)

    base = served(make_general_websockets_dispatcher(
        flood, options=WSOptions(max_send_buffer=256 * 1024)))
    sock, head = raw_handshake(base)  # never reads
    assert outcome.get(15) is True
    sock.close()


@pytest.mark.parametrize("frame, code", [
    (b"\xc1\x80\x00\x00\x00\x00", 1002),             # RSV1 set, no extension agreed
    (b"\xa1\x80\x00\x00\x00\x00", 1002),             # RSV2
    (b"\x83\x80\x00\x00\x00\x00", 1002),             # reserved opcode 3
    (b"\x81\x05hello", 1002),                        # a client frame without a mask
    (b"\x82\xff\x00\x00\x01\x00\x00\x00\x00\x00kkkk", 1009),  # 1 TiB declared
])
def test_hostile_frames_close_with_the_right_code_and_others_go_on(served, frame, code):
    base = served(make_general_websockets_dispatcher(echo))
    sock, head = raw_handshake(base)
    assert head.startswith(b"HTTP/1.1 101 ")
    sock.sendall(frame)
    reply = sock.recv(200)
    assert reply[0] == 0x88 and struct.unpack("!H", reply[2:4])[0] == code
    sock.close()
    c = ws_connect(ws_base(base) + "/")
    ws_send(c, "others still served")
    assert ws_recv(c) == "others still served"


def test_the_handshake_headers_reach_the_handler(served):
    def handler(c, state):
        headers = ws_conn_headers(c)
        ws_send(c, "|".join([headers["X-Board"], headers.get("Cookie", ""),
                             str("Sec-Websocket-Key" in headers), headers["host"][:9]]))

    base = served(make_general_websockets_dispatcher(handler))
    c = ws_connect(ws_base(base) + "/h", headers={"X-Board": "7", "Cookie": "a=1; b=2"})
    assert ws_recv(c) == "7|a=1; b=2|True|127.0.0.1"
    ws_close(c)
