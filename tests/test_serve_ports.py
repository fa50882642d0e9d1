"""The rest of Racket's web-server/web-server and servlet-dispatch over real sockets:
serve_ports, serve_ips_ports, do_not_return, serve_launch_wait; with
make_unlimited_safety_limits (web-server/safety-limits) and dispatch-stat's
make_gc_thread."""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import gevent
import gevent.event
import pytest
import requests

from dispatch import lift, stat
from dispatch.safety_limits import SafetyLimits, make_safety_limits, make_unlimited_safety_limits
from dispatch.server import Stoppers, serve_ips_ports, serve_ports
from servlets import response_full

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 10


def hello(request):
    return response_full(200, None, None, "text/plain", [],
                         [f"hello {len(request.get_data())}".encode()])


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# -- serve/ports, serve/ips+ports ----------------------------------------------------

def test_serve_ports_serves_each_port_and_stops_them_all():
    stop = serve_ports(lift.make(hello), [0, 0], listen_ip="127.0.0.1")
    assert isinstance(stop, Stoppers) and len(set(stop.ports)) == 2
    for port in stop.ports:
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "hello 0"
    stop(timeout=1)
    assert all(refused(port) for port in stop.ports)


def test_serve_ips_ports_serves_every_address_and_port():
    stop = serve_ips_ports(lift.make(hello), [("127.0.0.1", [0]), ("127.0.0.1", (0, 0))])
    try:
        assert len(stop.ports) == 3
        for port in stop.ports:
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    finally:
        stop(timeout=1)
    assert all(refused(port) for port in stop.ports)


def test_a_port_that_cannot_be_bound_stops_the_others():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    first = free.getsockname()[1]
    free.close()
    try:
        with pytest.raises(OSError):
            serve_ports(lift.make(hello), [first, busy], listen_ip="127.0.0.1")
        assert refused(first)
    finally:
        taken.close()


def test_connection_close_closes_after_each_answer():
    stop = serve_ports(lift.make(hello), [0], listen_ip="127.0.0.1", connection_close=True)
    try:
        with socket.create_connection(("127.0.0.1", stop.ports[0]), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while True:  # the server closes after the first answer
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        assert received.count(b"HTTP/1.1 200") == 1
        assert b"\r\nConnection: close\r\n" in received and received.endswith(b"hello 0")
    finally:
        stop(timeout=1)


@pytest.mark.parametrize("call, error", [
    (lambda: serve_ports(lift.make(hello), 8000), TypeError),
    (lambda: serve_ports(lift.make(hello), [70000]), ValueError),
    (lambda: serve_ports(lift.make(hello), [True]), ValueError),
    (lambda: serve_ips_ports(lift.make(hello), [("127.0.0.1", 0)]), TypeError),
    (lambda: serve_ips_ports(lift.make(hello), [(1, [0])]), TypeError),
])
def test_bad_ports_are_errors_at_the_call(call, error):
    with pytest.raises(error, match="serve_"):
        call()


# -- do-not-return -------------------------------------------------------------------

def run_python(code: str):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1"))


def test_do_not_return_keeps_serving_until_interrupted():
    proc = run_python("""
        from gevent import monkey; monkey.patch_all()
        from dispatch import lift
        from dispatch.server import do_not_return, serve
        from servlets import response_xexpr
        stop = serve(lift.make(lambda r: response_xexpr(("p", "up"))), port=0,
                     listen_ip="127.0.0.1")
        print(stop.port, flush=True)
        do_not_return()
    """)
    try:
        port = int(proc.stdout.readline())
        for _ in range(3):
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "<p>up</p>"
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) != 0 and "KeyboardInterrupt" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_do_not_return_blocks_even_with_nothing_to_serve():
    """gevent raises LoopExit from a wait that nothing can end; do_not_return must not."""
    proc = run_python("from dispatch.server import do_not_return; do_not_return()")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(1.5)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


# -- serve/launch/wait ---------------------------------------------------------------

LAUNCH = """
    from gevent import monkey; monkey.patch_all()
    import sys
    from dispatch import filter, lift, sequencer
    from servlets import response_xexpr, serve_launch_wait

    def make_dispatcher(quit):
        def bye(request):
            quit.set()                      # Racket: (semaphore-post sema)
            return response_xexpr(("p", "Bye!"))
        return sequencer.make(filter.make("^/quit$", lift.make(bye)),
                              lift.make(lambda r: response_xexpr(("p", "Hello"))))

    serve_launch_wait(make_dispatcher, port=0, connection_close=%s)
    print("returned", flush=True)
"""


@pytest.mark.parametrize("connection_close", [False, True])
def test_serve_launch_wait_serves_until_its_dispatcher_posts(connection_close):
    proc = run_python(LAUNCH % connection_close)
    try:
        banner = proc.stdout.readline()
        url = re.search(r"running at (http://localhost:\d+)\.$", banner.strip()).group(1)
        url = url.replace("localhost", "127.0.0.1")
        assert proc.stdout.readline().startswith("Stop this program at any time")
        hello = requests.get(url + "/", timeout=5)
        assert hello.text == "<p>Hello</p>"
        assert (hello.headers.get("Connection") == "close") == connection_close
        assert requests.get(url + "/quit", timeout=5).text == "<p>Bye!</p>"
        assert proc.wait(TIMEOUT) == 0
        rest = proc.stdout.read()
        assert rest == "\nWeb Server stopped.\nreturned\n"
        assert refused(int(url.rsplit(":", 1)[1]))
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_serve_launch_wait_wants_a_procedure():
    from servlets import serve_launch_wait

    with pytest.raises(TypeError, match="serve_launch_wait: make_dispatcher must be"):
        serve_launch_wait("make_dispatcher")


# -- make-unlimited-safety-limits ----------------------------------------------------

def test_unlimited_limits_lift_all_but_the_backlog_and_the_spooling():
    limits = make_unlimited_safety_limits()
    safe = make_safety_limits()
    assert limits.max_waiting == 511 == safe.max_waiting
    assert limits.form_data_file_memory_threshold == safe.form_data_file_memory_threshold
    assert limits.request_read_timeout is None and limits.response_send_timeout is None
    assert limits.max_request_body_length is None and limits.max_form_data_parts is None
    assert limits.max_request_line_length == limits.max_concurrent == sys.maxsize
    assert make_unlimited_safety_limits(request_read_timeout=60).request_read_timeout == 60
    assert make_unlimited_safety_limits(max_request_body_length=10).max_request_body_length == 10
    with pytest.raises(TypeError, match="unknown limits \\['max_waiting_list'\\]"):
        make_unlimited_safety_limits(max_waiting_list=1)
    assert isinstance(limits, SafetyLimits)


def test_unlimited_limits_accept_what_the_safe_ones_refuse(served):
    big_body = b"x" * (2 * 1024 * 1024)
    big_header = {"X-Big": "y" * (20 * 1024)}
    safe = served(lift.make(hello))
    assert requests.post(safe + "/", data=big_body, timeout=10).status_code == 413
    assert requests.get(safe + "/", headers=big_header, timeout=10).status_code == 431
    unlimited = served(lift.make(hello), safety_limits=make_unlimited_safety_limits())
    assert requests.post(unlimited + "/", data=big_body, timeout=10).text == \
        f"hello {len(big_body)}"
    assert requests.get(unlimited + "/", headers=big_header, timeout=10).text == "hello 0"


# -- make-gc-thread ------------------------------------------------------------------

def test_make_gc_thread_collects_and_says_so(monkeypatch):
    collected = gevent.event.Event()
    monkeypatch.setattr(stat.gc, "collect", lambda *a: collected.set())
    out = io.StringIO()
    thread = stat.make_gc_thread(0.01, out)
    try:
        assert collected.wait(5)
        assert out.getvalue().startswith(".")
    finally:
        thread.kill()
    assert thread.dead


@pytest.mark.parametrize("seconds, error", [("1", TypeError), (True, TypeError),
                                            (0, ValueError), (float("inf"), ValueError)])
def test_make_gc_thread_wants_a_positive_number(seconds, error):
    with pytest.raises(error, match="make_gc_thread: seconds"):
        stat.make_gc_thread(seconds)
