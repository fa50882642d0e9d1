"""nginx (Debian's package) in front of a served dispatcher, configured by
docs/nginx.conf: a page, an event stream with its heartbeats, and a WebSocket echo
(with its origin check), through the proxy; and two processes of a stateful servlet
behind docs/nginx-stateful.conf.  Skips where nginx is not installed (bash .ci/setup
installs it, as root)."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time

import gevent
import pytest

from dispatch import filter, proxy_headers, sequencer
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.testing import sse_connect, websocket_connect
from dispatch.websocket import is_eof, ws_recv, ws_send, ws_service_mapper
from dispatch.websocket.service_mapper import make_service_mapper_dispatcher
from servlets import response_full
from tests.support import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "docs", "nginx.conf")
STATEFUL_TEMPLATE = os.path.join(ROOT, "docs", "nginx-stateful.conf")


def nginx_binary():
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)
    if found is None:
        pytest.skip("nginx is not installed: apt-get install nginx (bash .ci/setup does, "
                    "as root)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Nginx:
    """nginx in the foreground, every file in ``directory``, stopped by :meth:`stop`."""

    def __init__(self, binary: str, directory, upstream: str, start_timeout: float = 10,
                 template: str = TEMPLATE, **fill: str):
        self.directory = str(directory)
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(self.directory, sub), exist_ok=True)
        error_log = os.path.join(self.directory, "logs", "error.log")
        with open(template) as source:
            text = source.read()
        for name, value in fill.items():
            text = text.replace(f"@{name}@", value)
        for _attempt in range(3):  # the free port may be taken between the probe and nginx
            self.port = free_port()
            conf = os.path.join(self.directory, "nginx.conf")
            with open(conf, "w") as out:
                out.write(text.replace("@LISTEN_PORT@", str(self.port))
                          .replace("@UPSTREAM@", upstream))
            self.proc = subprocess.Popen(
                [binary, "-p", self.directory + "/", "-c", conf, "-e", error_log],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + start_timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if listening(self.port):
                    return
                gevent.sleep(0.05)
            output = self.stop()
            with open(error_log) as log:
                output += log.read()
            if "Address already in use" not in output:
                break
        raise AssertionError(f"nginx did not start:\n{output}")

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def logged(self, text: str) -> bool:
        """Whether ``text`` appears in the access log within 5 s."""
        path = os.path.join(self.directory, "logs", "access.log")

        def found() -> bool:
            with open(path) as log:
                return text in log.read()

        return wait_until(found, within=5.0, step=0.02)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        output = self.proc.stdout.read().decode(errors="replace")
        self.proc.stdout.close()
        return output


@pytest.fixture
def nginx(tmp_path):
    binary = nginx_binary()
    started = []

    def start(upstream_base: str = "", **options) -> Nginx:
        proxy = Nginx(binary, tmp_path, upstream_base.split("//", 1)[-1], **options)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def page(conn, request):
    body = json.dumps({"client_ip": request.client_ip, "scheme": request.scheme,
                       "host": request.host, "path": request.path})
    conn.respond(response_full(200, None, None, "application/json", [], [body.encode()]))


def echo(c):
    while not is_eof(message := ws_recv(c)):
        ws_send(c, message, payload_type="text" if isinstance(message, str) else "binary")


@pytest.fixture
def app():
    source = make_sse(heartbeat=0.2)
    dispatcher = sequencer.make(
        filter.make("^/sse/", sse_dispatcher(source)),
        make_service_mapper_dispatcher(ws_service_mapper(("^/ws$", ([None], echo)))),
        proxy_headers.make(page, trusted=("127.0.0.1",)))
    return dispatcher, source


def get(base: str, path: str, headers=None, source_ip="127.0.0.1"):
    host, port = base.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5,
                                      source_address=(source_ip, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def test_page_through_nginx_with_the_client_s_address(served, nginx, app):
    proxy = nginx(served(app[0]))
    # The client connects from 127.0.0.3 (all of 127/8 is loopback): only nginx's
    # X-Forwarded-For can tell the application so; the made-up entry and scheme the
    # client sends are not believed.
    status, _, body = get(proxy.base, "/page?x=1", source_ip="127.0.0.3", headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert status == 200
    assert json.loads(body) == {"client_ip": "127.0.0.3", "scheme": "http",
                                "host": proxy.base, "path": "/page"}
    # nginx writes the line in its log phase, after the reply is on the socket: the
    # client can read the reply first, so wait for the line (CI once read an empty log).
    assert proxy.logged("GET /page?x=1"), "nginx's access log has no line for the request"


def test_event_stream_and_heartbeats_through_nginx(served, nginx, app):
    dispatcher, source = app
    proxy = nginx(served(dispatcher))
    with sse_connect(f"http://{proxy.base}/sse/", timeout=5) as events:
        assert events.status_code == 200
        assert events.headers["content-type"] == "text/event-stream"
        assert events.receive_comment() == ""  # the opening comment
        sse_send_event(source, data="through nginx", id=True)
        event = events.receive()
        assert (event.data, event.id) == ("through nginx", "1")
        # Heartbeats every 0.2 s on the idle stream reach the client unbuffered.
        for _ in range(3):
            assert events.receive_comment(timeout=2) == ""
        sse_send_event(source, data="after heartbeats")
        assert events.receive(timeout=2).data == "after heartbeats"


def test_websocket_echo_through_nginx(served, nginx, app):
    proxy = nginx(served(app[0]))
    with websocket_connect(f"ws://{proxy.base}/ws", timeout=5) as ws:
        ws.send_text("hello through nginx")
        assert ws.receive_text() == "hello through nginx"
        ws.send_bytes(b"\x00" * 100_000)  # larger than nginx's proxy buffers
        assert ws.receive_bytes() == b"\x00" * 100_000
        ws.send_json({"after": "binary"})
        assert ws.receive_json() == {"after": "binary"}


def test_websocket_origins_through_nginx(served, nginx, app):
    # nginx passes the browser's Host on (proxy_set_header Host $http_host), so a page
    # served through nginx opens its WebSockets, and another site's page cannot.
    from dispatch.websocket import HandshakeFailed

    proxy = nginx(served(app[0]))
    own = {"Origin": f"http://{proxy.base}"}
    with websocket_connect(f"ws://{proxy.base}/ws", headers=own, timeout=5) as ws:
        ws.send_text("same origin")
        assert ws.receive_text() == "same origin"
    with pytest.raises(HandshakeFailed, match="403"):
        websocket_connect(f"ws://{proxy.base}/ws", headers={"Origin": "http://evil.example"},
                          timeout=5)


def test_stateful_processes_behind_nginx_fresh_browsers_land_on_both(nginx, tmp_path):
    """Two processes, each a stateful servlet with its route; nginx by
    docs/nginx-stateful.conf.  Browsers without the cookie come from 16 addresses (all
    of 127/8 is loopback): both processes get some (the old map sent all of them to the
    first), and each browser then stays where its continuation lives."""
    import re
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys\n"
        "from dispatch.server import read_line, serve\n"
        "from servlets import response_xexpr\n"
        "from servlets.stateful import make\n"
        "from servlets.web import send_suspend\n"
        "route = sys.argv[1]\n"
        "def start(request):\n"
        "    send_suspend(lambda k: response_xexpr(('a', [('href', k)], route)))\n"
        "    return response_xexpr(('p', 'resumed on ' + route))\n"
        "stop = serve(make(start, route=route), port=0, listen_ip='127.0.0.1')\n"
        "print(stop.port, flush=True)\n"
        "read_line()\n"
        "stop(timeout=1)\n")
    processes = [subprocess.Popen([sys.executable, "-c", child, route], cwd=root,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": root})
                 for route in ("w1", "w2")]
    try:
        with gevent.Timeout(30):
            ports = [p.stdout.readline().decode().strip() for p in processes]
        proxy = nginx(template=STATEFUL_TEMPLATE, W1=ports[0], W2=ports[1])
        landed = {}
        for i in range(2, 18):
            source = f"127.0.0.{i}"
            status, headers, body = get(proxy.base, "/", source_ip=source)
            assert status == 200
            route = re.search(rb">(w[12])</a>", body).group(1).decode()
            assert headers["Set-Cookie"] == f"route={route}; Path=/; HttpOnly; SameSite=Lax"
            landed[source] = route
            # The same browser, cookie in hand, from another address: back to its process.
            link = re.search(rb'href="([^"]+)"', body).group(1).decode()
            other = f"127.0.0.{40 + i}"
            status, _, page = get(proxy.base, link, source_ip=other,
                                  headers={"Cookie": f"route={route}"})
            assert (status, page) == (200, f"<p>resumed on {route}</p>".encode())
        assert set(landed.values()) == {"w1", "w2"}, landed
        # Without its cookie, a browser's requests all go to one process (its address).
        again = {get(proxy.base, "/", source_ip="127.0.0.2")[2] for _ in range(4)}
        assert len({re.search(rb">(w[12])</a>", b).group(1) for b in again}) == 1
    finally:
        for p in processes:
            p.stdin.close()
            p.wait(timeout=30)
            p.stdout.close()
