"""Racket's ``tests/web-server/http/response-test.rkt`` (``output-response-body/chunked``),
over a real socket, plus the ``module+ test`` cases of ``web-server/http/response-structs.rkt``
(``response/output``'s code and message)."""
from __future__ import annotations

import socket
import time

import gevent
import pytest
from gevent.queue import Queue

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output

WAIT = 5  # seconds any one step may take before the test fails (Racket: 1)


class RawClient:
    """Racket's test client: the bytes the server sends, read as they arrive."""

    def __init__(self, base: str) -> None:
        host, port = base.rsplit("/", 1)[1].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=WAIT)
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

    def headers(self) -> bytes:
        data = b""
        deadline = time.monotonic() + WAIT
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def exactly(self, expected: bytes) -> bytes:
        data = b""
        deadline = time.monotonic() + WAIT
        while len(data) < len(expected) and time.monotonic() < deadline:
            chunk = self.sock.recv(len(expected) - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def at_end(self) -> bool:
        """Whether the server closed the connection (recv gives nothing, or a reset)."""
        try:
            return self.sock.recv(4096) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def writer_server(served):
    """Serve a response/output whose writer is given; yields a function starting it."""
    clients = []

    def start(writer, **options) -> RawClient:
        base = served(dispatch_servlet(lambda request: response_output(writer)), **options)
        client = RawClient(base)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


# "the request and each chunk after it is flushed immediately"
def test_the_headers_and_each_chunk_after_them_are_flushed_immediately(writer_server):
    ready = Queue()

    def writer(out):
        ready.get(timeout=WAIT)
        out.write(b"a")
        ready.get(timeout=WAIT)
        out.write(b"b")
        ready.get(timeout=WAIT)

    client = writer_server(writer)
    head = client.headers()  # before the writer writes anything: long polling needs it
    assert head[:8] == b"HTTP/1.1"
    assert head[-4:] == b"\r\n\r\n"
    ready.put(None)
    assert client.exactly(b"1\r\na\r\n") == b"1\r\na\r\n"
    ready.put(None)
    assert client.exactly(b"1\r\nb\r\n") == b"1\r\nb\r\n"
    ready.put(None)
    assert client.exactly(b"0\r\n\r\n") == b"0\r\n\r\n"


# "responders exit cleanly when the client disappears"
def test_responders_exit_cleanly_when_the_client_disappears(writer_server):
    ready = Queue()
    done = gevent.event.Event()

    def writer(out):
        try:
            while True:
                ready.get(timeout=WAIT)
                out.write(b"a")
        finally:
            done.set()

    client = writer_server(writer)
    assert client.headers()[:8] == b"HTTP/1.1"
    ready.put(None)
    assert client.exactly(b"1\r\na\r\n") == b"1\r\na\r\n"
    client.close()
    # The first writes after the close may still fit the kernel's buffers; a later one
    # fails and ends the writer.
    for _ in range(100):
        ready.put(None)
        if done.wait(0.05):
            break
    assert done.is_set()


# "connections are closed when responders fail"
def test_connections_are_closed_when_responders_fail(writer_server, caplog):
    ready = Queue()

    def writer(out):
        ready.get(timeout=WAIT)
        out.write(b"a")
        ready.get(timeout=WAIT)
        raise RuntimeError("fail")

    client = writer_server(writer)
    assert client.headers()[:8] == b"HTTP/1.1"
    ready.put(None)
    assert client.exactly(b"1\r\na\r\n") == b"1\r\na\r\n"
    ready.put(None)
    # no terminating chunk: the client must not take the body for complete
    assert client.at_end()


# "every chunk resets the rolling 60 second timeout window": with a send time-out far
# shorter than the whole response, a writer that keeps writing is not cut off.
def test_every_chunk_resets_the_send_timeout(writer_server):
    ready = Queue()

    def writer(out):
        for _ in range(5):
            ready.get(timeout=WAIT)
            out.write(b"a")

    client = writer_server(writer, safety_limits=make_safety_limits(response_send_timeout=0.2))
    assert client.headers()[:8] == b"HTTP/1.1"
    started = time.monotonic()
    for _ in range(5):
        gevent.sleep(0.1)  # pacing the writer, not synchronising: 0.5 s in all
        ready.put(None)
        assert client.exactly(b"1\r\na\r\n") == b"1\r\na\r\n"
    assert client.exactly(b"0\r\n\r\n") == b"0\r\n\r\n"
    assert time.monotonic() - started > 0.2


# web-server/http/response-structs.rkt, module+ test
@pytest.mark.parametrize("kwargs, status", [
    ({"code": 123, "message": b"bites!"}, "123 bites!"),   # message as bytes
    ({"code": 200, "message": None}, "200 OK"),            # message as #f
    ({"code": 200}, "200 OK"),                             # code, no message
    ({"message": b"bite this"}, "200 bite this"),          # message, no code
    ({}, "200 OK"),                                        # neither
    ({"code": 123}, "123 OK"),                             # non-standard status code
])
def test_response_output_code_and_message(kwargs, status):
    assert response_output(lambda out: None, **kwargs).status == status
