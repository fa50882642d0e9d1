"""Property-based fuzzing of the HTTP request path over a real socket: whatever a client
sends, it gets an HTTP answer that is not a 500, or a clean close, and the server goes on.
"""
import socket

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import filter, sequencer
from dispatch.safety_limits import make_safety_limits
from dispatch.server import serve
from servlets import dispatch_servlet, response_jsexpr


def echo(request):
    return response_jsexpr({"path": request.path, "args": request.args.to_dict(),
                            "body": len(request.post_data)})


@pytest.fixture(scope="module")
def base():
    stop = serve(sequencer.make(filter.make("^/api", dispatch_servlet(echo)),
                                dispatch_servlet(echo)),
                 port=0, listen_ip="127.0.0.1",
                 safety_limits=make_safety_limits(request_read_timeout=1.0))
    yield f"http://127.0.0.1:{stop.port}"
    stop(timeout=1)


token = st.text(st.sampled_from("abcXYZ-_!#$%&'*+.^`|~0123456789"), min_size=1, max_size=12)
raw = st.binary(max_size=40)
methods = st.one_of(st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]), token)
paths = st.one_of(st.text(max_size=30).map(lambda s: "/" + s), raw.map(
    lambda b: "/" + b.decode("latin-1")))
versions = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1", "FOO", ""])
latin1 = raw.map(lambda b: b.decode("latin-1"))
headers = st.lists(st.tuples(st.one_of(token, latin1), st.one_of(st.text(max_size=30), latin1)),
                   max_size=6)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=methods, path=paths, version=versions, header_list=headers, body=raw)
def test_any_request_gets_an_answer_or_a_clean_close(base, method, path, version, header_list,
                                                    body):
    line = f"{method} {path} {version}".encode("latin-1", "replace")
    head = b"".join(f"{k}: {v}".encode("latin-1", "replace") + b"\r\n" for k, v in header_list)
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(line + b"\r\n" + head + b"Connection: close\r\n\r\n" + body)
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except ConnectionResetError:
            reply = b""
    status_line = reply.split(b"\r\n", 1)[0]
    assert reply == b"" or status_line.startswith(b"HTTP/1.1 ") or status_line.startswith(
        b"HTTP/1.0 "), reply[:200]
    assert b" 500 " not in status_line, reply[:500]


def test_the_server_still_serves_after_the_fuzzing(base):
    assert requests.get(base + "/api/x?a=1", timeout=5).json() == {
        "path": "/api/x", "args": {"a": "1"}, "body": 0}
