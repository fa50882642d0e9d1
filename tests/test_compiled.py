"""The compiled modules (mypyc, listed in dispatch/_build.py) and their pure-Python twins.

The suite runs in both modes (.ci/run): compiled where a build put extensions beside the
sources (``pip install -e .``), and with ``GEVENT_DISPATCH_NO_EXTENSIONS=1``.  Here: that
the mode is the one asked for, and what compiled frames could break: greenlet switches in
the middle of a compiled function, ``gevent.Timeout`` raised through them, parked
connections woken by the hub calling a compiled bound method, monkey-patched blocking
code under the compiled engine, and classes with ``__slots__``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import weakref

import gevent
import gevent.event
import pytest

import dispatch
from dispatch._build import COMPILED, LIBRARY, NO_EXTENSIONS, source_path
from dispatch.engine.listener import DispatchServer
from dispatch.http11.reader import Message
from dispatch.http11.writer import ResponseWriter
from dispatch.safety_limits import make_safety_limits
from tests.support import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(dispatch.__file__)))
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
PURE = os.environ.get(NO_EXTENSIONS) == "1"


def built() -> bool:
    """Whether the imported package has this Python's extension for every listed module."""
    return all(os.path.exists(os.path.join(ROOT, source_path(name)[:-3] + SUFFIX))
               for name in COMPILED)


def expected() -> set:
    return set(COMPILED) if built() and not PURE else set()


def check_mode() -> None:
    """The engine serving this test runs compiled exactly where that was asked for."""
    assert set(dispatch._compiled) == expected(), (
        f"compiled: {dispatch._compiled}; built: {built()}; {NO_EXTENSIONS}: {PURE}; "
        f"why pure: {dispatch._extensions.PURE_REASON}")


# -- which modules run compiled --------------------------------------------------------------

def test_the_listed_modules_run_compiled_where_built_and_not_forced_pure():
    if not built() and not PURE:
        pytest.skip("no compiled build here (pip install -e . or .ci/setup builds one)")
    check_mode()
    for name in COMPILED:
        module = sys.modules[name]
        assert module.__file__.endswith(".py" if PURE else SUFFIX), module.__file__


PROBE = """
import importlib, json, sys
import dispatch, dispatch.server, servlets
from dispatch._build import COMPILED
for name in COMPILED:
    importlib.import_module(name)
mine = {name: getattr(module, "__file__", None) or "" for name, module in sys.modules.items()
        if name.split(".")[0] in ("dispatch", "servlets")}
print(json.dumps({"compiled": list(dispatch._compiled), "files": mine}))
"""


def probe(pure: bool, cwd: str = ROOT) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (NO_EXTENSIONS, "PYTHONPATH")}
    if pure:
        env[NO_EXTENSIONS] = "1"
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=60, cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pure_python_mode_imports_every_module_from_its_source():
    seen = probe(pure=True)
    assert seen["compiled"] == []
    assert LIBRARY not in seen["files"]  # the extension library is never loaded
    for name in COMPILED:
        assert seen["files"][name] == os.path.join(ROOT, source_path(name))
    assert all(path.endswith(".py") for path in seen["files"].values()), seen["files"]


def test_without_the_variable_a_build_runs_compiled():
    if not built():
        pytest.skip("no compiled build here (pip install -e . or .ci/setup builds one)")
    seen = probe(pure=False)
    assert sorted(seen["compiled"]) == sorted(COMPILED)
    for name in COMPILED:
        assert seen["files"][name].endswith(SUFFIX)


def test_a_program_outside_the_checkout_runs_compiled_too(tmp_path):
    """A user's program in a folder of its own, with the installed package (editable in
    a checkout): the extension library is found there too."""
    seen = probe(pure=False, cwd=str(tmp_path))
    assert sorted(seen["compiled"]) == (sorted(COMPILED) if built() else [])
    if built():
        assert seen["files"][LIBRARY].startswith(os.path.join(ROOT, "dispatch", "")) or \
            "site-packages" in seen["files"][LIBRARY]


# -- the engine's behaviour through compiled frames ------------------------------------------

@pytest.fixture
def serve_wsgi():
    """Serve a WSGI application on the engine alone (no dispatchers): yields
    ``start(app, **limits) -> (server, port)``."""
    servers = []

    def start(app, **limits):
        server = DispatchServer(("127.0.0.1", 0), app,
                                safety_limits=make_safety_limits(**limits))
        server.start()
        servers.append(server)
        return server, server.server_port

    yield start
    for server in servers:
        server.stop(timeout=1)


def read_response(sock) -> bytes:
    """One response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data + body!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def constant(body: bytes):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


def test_the_request_heads_deadline_fires_through_the_compiled_loop(serve_wsgi):
    # gevent.Timeout is thrown into the greenlet where the compiled loop waits on the
    # socket; the loop catches it and answers 408.
    server, port = serve_wsgi(constant(b"ok"), request_read_timeout=0.3)
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        reply = sock.recv(1000)
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert b"Connection: close\r\n" in reply
    assert wait_until(lambda: not server.connections)


def test_an_applications_timeout_unwinds_a_compiled_body_read_and_the_connection_goes_on(
        serve_wsgi):
    # The application's gevent.Timeout fires while compiled Input.read waits for the
    # body; it propagates up through the compiled frames to the application's handler.
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        try:
            with gevent.Timeout(0.1):
                stream.read()
            status, body = "200 OK", b"whole"
        except gevent.Timeout:
            status, body = "503 Service Unavailable", b"timed out"
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    server, port = serve_wsgi(app)
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
        assert read_response(sock).startswith(b"HTTP/1.1 503 ")
        sock.sendall(b"def")  # the rest of the body: the engine reads it past the answer
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy")
        assert read_response(sock).endswith(b"\r\n\r\nwhole")


def test_a_greenlet_switch_in_the_middle_of_a_compiled_body_read(serve_wsgi):
    # A's application waits inside the compiled Input.read for a body that arrives in
    # two parts; the hub serves B meanwhile, then A resumes where it stopped.
    reading = gevent.event.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/a":
            reading.set()
            body = environ["wsgi.input"].read()
        else:
            body = b"b served"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    server, port = serve_wsgi(app)
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as a, \
            socket.create_connection(("127.0.0.1", port), timeout=5) as b:
        a.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nfirst")
        assert reading.wait(5)  # (A's greenlet went on into read, and waits in it)
        b.sendall(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(b).endswith(b"b served")
        a.sendall(b"-last")
        assert read_response(a).endswith(b"\r\n\r\nfirst-last")


def test_a_parked_connection_is_woken_by_the_hub_and_serves_again(serve_wsgi):
    # Parked, the connection has no greenlet: the hub calls the compiled bound method
    # _wake from a watcher, which spawns the compiled run() again.  Three rounds.
    def app(environ, start_response):
        body = environ["PATH_INFO"].encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    server, port = serve_wsgi(app)
    server.park_after = 0.05
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for n in range(3):
            sock.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
            assert read_response(sock).endswith(b"\r\n\r\n/%d" % n)
            [conn] = server.connections
            assert wait_until(lambda conn=conn: conn.greenlet is None)  # parked: no greenlet
    assert wait_until(lambda: not server.connections)


def test_monkey_patched_blocking_code_under_the_compiled_engine_yields_to_others(serve_wsgi):
    # conftest patched the socket module: the application's blocking recv on a socket
    # pair waits cooperatively, so the request that writes to it is served meanwhile.
    # Were the hub blocked under the compiled frames, the first request would hang.
    left, right = socket.socketpair()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/wait":
            body = left.recv(100)
        else:
            right.sendall(b"released")
            body = b"sent"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    server, port = serve_wsgi(app)
    check_mode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as a, \
                socket.create_connection(("127.0.0.1", port), timeout=5) as b:
            a.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            b.sendall(b"GET /release HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(b).endswith(b"sent")
            assert read_response(a).endswith(b"released")
    finally:
        left.close()
        right.close()


def test_slotted_classes_behave_alike_in_both_modes(serve_wsgi):
    # Native (compiled) classes have fixed attributes like __slots__ classes, and no
    # weak references: the pure twins declare the same.
    handles = []

    def app(environ, start_response):
        handles.append(environ["gevent_dispatch.handler"])
        start_response("204 No Content", [])
        return []

    server, port = serve_wsgi(app)
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 204 ")
    [handle] = handles
    for obj in (handle, Message(), ResponseWriter()):
        with pytest.raises(AttributeError):
            obj.not_an_attribute = 1
        with pytest.raises(TypeError):
            weakref.ref(obj)
    writer = ResponseWriter()
    writer.status = "200 OK"  # declared attributes are set as usual
    assert writer.status == "200 OK"


def test_what_the_pure_engine_accepts_the_compiled_one_accepts(serve_wsgi):
    # Compiled, every annotation is checked at run time: the engine's annotations say
    # what the pure code takes (write: any bytes-like piece; read1: a size or None).
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.read1(None)
        rest = stream.readlines(None)
        write = start_response("200 OK", [("Content-Length", "12")])
        write(bytearray(b"bytes"))
        write(memoryview(first + b"".join(rest))[:4])
        return [b"end"]

    server, port = serve_wsgi(app)
    check_mode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nbody\nx")
        assert read_response(sock).endswith(b"\r\n\r\nbytesbodyend")
