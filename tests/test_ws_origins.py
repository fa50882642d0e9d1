"""WebSocket origins are checked by default, at every WebSocket entry point, over real
sockets: a browser's handshake (one with ``Origin``) from another host than the
server's own is refused with 403 unless ``origins=`` allows it; handshakes without
``Origin`` are accepted.  (The same in headless Chromium on two origins:
tests/test_safe_browser.py.)"""
from __future__ import annotations

import base64
import os
import socket

import pytest

from dispatch.websocket import (
    is_eof,
    make_general_websockets_dispatcher,
    make_service_mapper_dispatcher,
    make_wsgi_websocket_dispatcher,
    ws_connect,
    ws_recv,
    ws_send,
    ws_serve,
    ws_serve_star,
    ws_service_mapper,
)
from dispatch.websocket.handshake import origin_policy
from servlets import string_arg, ws_dispatch_rules


def echo(conn, *args, **kwargs):
    while True:
        message = ws_recv(conn)
        if is_eof(message):
            return
        ws_send(conn, message)


def wsgi_echo(environ, start_response):
    ws = environ["wsgi.websocket"]
    while not ws.closed:
        message = ws.receive()
        if message is not None:
            ws.send(message)
    return []


# Each WebSocket entry point, as a function of origins=... (the default when absent).
ENTRY_POINTS = {
    "general": lambda **kw: make_general_websockets_dispatcher(echo, **kw),
    "service_mapper": lambda **kw: make_service_mapper_dispatcher(
        ws_service_mapper(("^/chat/.*", ([None], echo))), **kw),
    "ws_dispatch_rules": lambda **kw: ws_dispatch_rules((("chat", string_arg()), echo), **kw),
    "gevent_websocket": lambda **kw: make_wsgi_websocket_dispatcher(wsgi_echo, **kw),
}


def handshake(port: int, host: str, origin=None, path: str = "/chat/lobby",
              extra: str = "") -> bytes:
    """The status line of a handshake with this ``Host`` and ``Origin``."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        key = base64.b64encode(os.urandom(16))
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key.decode()}\r\n{extra}").encode()
        if origin is not None:
            request += f"Origin: {origin}\r\n".encode()
        sock.sendall(request + b"\r\n")
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        return head.split(b"\r\n", 1)[0]


@pytest.fixture(params=sorted(ENTRY_POINTS))
def entry(request):
    return ENTRY_POINTS[request.param]


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_same_host_and_no_origin_are_accepted_others_refused(served, entry):
    port = port_of(served(entry()))
    own = f"127.0.0.1:{port}"
    assert handshake(port, own).startswith(b"HTTP/1.1 101 ")  # not a browser
    assert handshake(port, own, f"http://{own}").startswith(b"HTTP/1.1 101 ")
    # what the new user saw accepted: another site's page
    for origin in ("http://evil.example", f"http://localhost:{port}",
                   f"http://127.0.0.1:{port + 1}", "null", f"https://{own}/x y"):
        assert handshake(port, own, origin) == b"HTTP/1.1 403 Forbidden", origin


def test_the_refusal_says_what_to_allow(served):
    base = served(make_general_websockets_dispatcher(echo))
    port = port_of(base)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                     f"Origin: http://evil.example\r\n\r\n".encode())
        answer = b""
        while b"origins=" not in answer:
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
    assert b"origins=['http://evil.example']" in answer


def test_listed_origins_are_accepted_besides_the_own_host(served, entry):
    port = port_of(served(entry(origins=[f"http://localhost:{port_free()}",
                                         "https://App.Example.com:443", "null"])))
    own = f"127.0.0.1:{port}"
    assert handshake(port, own, "https://app.example.com").startswith(b"HTTP/1.1 101 ")
    assert handshake(port, own, "null").startswith(b"HTTP/1.1 101 ")
    assert handshake(port, own, f"http://{own}").startswith(b"HTTP/1.1 101 ")
    # the scheme is part of an origin
    assert handshake(port, own, "http://app.example.com") == b"HTTP/1.1 403 Forbidden"


def test_any_origin_when_asked(served, entry):
    port = port_of(served(entry(origins="*")))
    assert handshake(port, f"127.0.0.1:{port}", "http://evil.example") \
        .startswith(b"HTTP/1.1 101 ")


def port_free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_page_on_another_port_of_this_machine_is_allowed_by_name(served):
    # The two-origin set-up of the browser test: the page on localhost:A, the WebSocket
    # on 127.0.0.1:B.
    page_port = port_free()
    base = served(make_general_websockets_dispatcher(
        echo, origins=[f"http://localhost:{page_port}"]))
    origin = {"Origin": f"http://localhost:{page_port}"}
    c = ws_connect(base.replace("http://", "ws://") + "/", headers=origin)
    ws_send(c, "hello")
    assert ws_recv(c) == "hello"


def test_behind_a_proxy_the_forwarded_host_is_the_own_host(served):
    # A proxy that rewrites Host (nginx's default proxy_pass) but says X-Forwarded-Host:
    # with proxy_headers.make(..., x_host=1) the public name is the one compared.
    from dispatch import proxy_headers

    plain = port_of(served(make_general_websockets_dispatcher(echo)))
    proxied = port_of(served(proxy_headers.make(make_general_websockets_dispatcher(echo),
                                                x_host=1)))
    forwarded = "X-Forwarded-Host: app.example.com\r\n"
    for port, status in ((plain, b"HTTP/1.1 403 Forbidden"), (proxied, b"HTTP/1.1 101 ")):
        answer = handshake(port, "backend:8000", "https://app.example.com", extra=forwarded)
        assert answer.startswith(status)


def test_ws_serve_and_ws_serve_star_check_origins_too():
    for stop in (ws_serve(echo, port=0, listen_ip="127.0.0.1"),
                 ws_serve_star(ws_service_mapper(("^/chat/.*", ([None], echo))), port=0,
                               listen_ip="127.0.0.1")):
        try:
            own = f"127.0.0.1:{stop.port}"
            assert handshake(stop.port, own, "http://evil.example") == b"HTTP/1.1 403 Forbidden"
            assert handshake(stop.port, own, f"http://{own}").startswith(b"HTTP/1.1 101 ")
        finally:
            stop()


@pytest.mark.parametrize("host, origin, allowed", [
    ("example.com", "https://example.com", True),       # default ports on both sides
    ("example.com", "http://example.com", True),
    ("Example.COM:443", "https://example.com", True),
    ("example.com:8443", "https://example.com:8443", True),
    ("example.com", "https://example.com:8443", False),
    ("example.com:8080", "http://example.com", False),
    ("[::1]:8000", "http://[::1]:8000", True),
    ("[::1]:8000", "http://[::2]:8000", False),
    ("example.com", "https://sub.example.com", False),
    ("example.com", "https://example.com.evil.example", False),
    ("example.com", "ftp://example.com", False),
    ("example.com", "https://user@example.com", False),
    ("", "https://example.com", False),                  # no Host: nothing to compare
])
def test_own_host_comparison(host, origin, allowed):
    environ = {"HTTP_ORIGIN": origin}
    if host:
        environ["HTTP_HOST"] = host
    assert (origin_policy().refusal(environ) is None) is allowed


@pytest.mark.parametrize("make", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("origins, error", [
    ("https://app.example.com", TypeError),       # a string, not a list of them
    ([b"https://app.example.com"], TypeError),
    (42, TypeError),
    (["https://app.example.com/path"], ValueError),
    (["app.example.com"], ValueError),
    (["ws://app.example.com"], ValueError),        # an origin is the page's: http(s)
])
def test_bad_origins_are_refused_at_the_call(make, origins, error):
    with pytest.raises(error, match="origins"):
        ENTRY_POINTS[make](origins=origins)
