"""Reload while developing (dispatch.reload): real programs started with reload on
ephemeral ports, their source edited while they serve, polled until the new answer
comes; stopped with enter (from a terminal), SIGTERM and SIGKILL of the supervisor."""
from __future__ import annotations

import ast
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from typing import Optional

import gevent
import pytest

from dispatch import reload as reloading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_URL = re.compile(r"(?:running at|Serving on) (http://localhost:\d+)")


class Reloading:
    """A program started with reload; its output lines are gathered in the background."""

    def __init__(self, argv: list, cwd, env: dict = {}) -> None:  # noqa: B006
        self.proc = subprocess.Popen(
            [sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=cwd,
            env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1", **env))
        self.out: list = []
        self.err: list = []
        self._readers = [gevent.spawn(self._gather, self.proc.stdout, self.out),
                         gevent.spawn(self._gather, self.proc.stderr, self.err)]

    @staticmethod
    def _gather(stream, lines: list) -> None:
        for line in stream:
            lines.append(line)

    def urls(self) -> list:
        """The URL each start of the server announced, in order."""
        return [m.group(1).replace("localhost", "127.0.0.1")
                for m in map(_URL.search, self.out) if m]

    def wait_for(self, predicate, what: str, timeout: float = 30):
        """Poll ``predicate()`` until it is truthy (bounded by count and time)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline or (self.proc.poll() is not None and
                                               not self._readers_alive()):
                break
            gevent.sleep(0.05)
        raise AssertionError(f"no {what}; stdout: {''.join(self.out)[-2000:]}"
                             f" stderr: {''.join(self.err)[-3000:]}")

    def _readers_alive(self) -> bool:
        return any(not r.dead for r in self._readers)

    def answer(self, url: str, prefix: str, timeout: float = 30) -> str:
        """Poll ``url`` until its body starts with ``prefix``; return the body."""
        def get():
            text = http_get(url)
            return text if text is not None and text.startswith(prefix) else None
        return self.wait_for(get, f"answer {prefix!r} from {url}", timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        gevent.joinall(self._readers, timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def reloading_program():
    running = []

    def start(*argv, cwd, **kwargs):
        running.append(Reloading(list(argv), cwd, **kwargs))
        return running[-1]

    yield start
    for program in running:
        program.close()


# The clients below connect to numeric addresses with plain sockets: no name lookup, so
# not gevent's resolver and its thread pool (with gevent 23.9, the floor, on Python 3.11
# this test process twice stopped for good in a lookup among the subprocesses it forks).

def _address(url: str) -> tuple:
    match = re.fullmatch(r"http://([\d.]+):(\d+)(/.*)?", url)
    assert match, url
    return match.group(1), int(match.group(2)), match.group(3) or "/"


def http_get(url: str, timeout: float = 2) -> Optional[str]:
    """The body of a 200 answer to GET ``url``; None when nothing (good) answers."""
    host, port, path = _address(url)
    data = b""
    try:
        with socket.socket() as sock:
            sock.settimeout(timeout)
            sock.connect((host, port))
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         "Connection: close\r\n\r\n".encode())
            for _ in range(10000):  # until the server closes (bounded: 640 MB)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return body.decode() if head.startswith(b"HTTP/1.1 200 ") else None


def refused(base: str) -> bool:
    host, port, _ = _address(base)
    try:
        with socket.socket() as sock:
            sock.settimeout(1)
            sock.connect((host, port))
    except ConnectionRefusedError:
        return True
    return False


def pid_of(text: str) -> int:
    return int(re.search(r"pid (\d+)", text).group(1))


INSTA_APP = """
import os
from servlets import response_xexpr

def start(request):
    return response_xexpr(("p", "{version} pid " + str(os.getpid())))
"""


def test_insta_reload_restarts_on_an_edit_and_survives_a_syntax_error(
        reloading_program, tmp_path):
    app = tmp_path / "app.py"
    app.write_text(INSTA_APP.format(version="one"))
    p = reloading_program("-m", "servlets.insta", "app.py", "--reload",
                          "--no-web-browser", cwd=tmp_path)
    base = p.wait_for(p.urls, "banner")[0]
    url = base + "/servlets/standalone.rkt"
    first = p.answer(url, "<p>one")

    app.write_text(INSTA_APP.format(version="two"))
    second = p.answer(url, "<p>two")
    assert pid_of(second) != pid_of(first)  # a new process, not a re-import
    assert p.proc.pid not in (pid_of(first), pid_of(second))  # the supervisor serves not
    assert p.urls() == [base, base]  # port=0 chose once: the same port after a restart
    assert any("app.py changed: restarting" in line for line in p.err)

    app.write_text("def start(request:\n")  # typing in progress: the server cannot start
    p.wait_for(lambda: any("waiting for a change" in line for line in p.err),
               "supervisor waiting after the failed start")
    assert p.proc.poll() is None
    assert any("SyntaxError" in line for line in p.err)
    app.write_text(INSTA_APP.format(version="three"))
    p.answer(url, "<p>three")

    # (standard input is a pipe here, not a terminal: enter does not stop serve_servlet,
    # a safe default; SIGTERM to the supervisor is forwarded and stops both)
    p.proc.send_signal(signal.SIGTERM)
    assert p.proc.wait(15) == 0
    assert refused(base)


FOREVER_APP = """
from gevent import monkey; monkey.patch_all()
import os, sys
from dispatch.server import serve_forever
from servlets import dispatch_servlet, response_xexpr

def start(request):
    return response_xexpr(("p", "{version} pid " + str(os.getpid())))

print("Serving on http://localhost:" + sys.argv[1], flush=True)
serve_forever(dispatch_servlet(start), port=int(sys.argv[1]), listen_ip="127.0.0.1",
              reload=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_forever_reload_and_sigterm_stops_both(reloading_program, tmp_path):
    script = tmp_path / "server.py"
    script.write_text(FOREVER_APP.format(version="one"))
    port = free_port()
    p = reloading_program(str(script), str(port), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    first = p.answer(base + "/", "<p>one")
    script.write_text(FOREVER_APP.format(version="two"))
    second = p.answer(base + "/", "<p>two")
    assert pid_of(second) != pid_of(first)
    p.proc.send_signal(signal.SIGTERM)  # forwarded: the server stops gracefully
    assert p.proc.wait(15) == 0
    assert refused(base)


SERVE_APP = """
from gevent import monkey; monkey.patch_all()
import os
from dispatch.server import read_line, serve
from servlets import dispatch_servlet, response_xexpr
from helper import VERSION

def start(request):
    return response_xexpr(("p", VERSION + " pid " + str(os.getpid())))

stop = serve(dispatch_servlet(start), port=0, listen_ip="127.0.0.1", reload=True)
print(f"Serving on http://localhost:{stop.port}/", flush=True)
read_line()
stop()
"""


def test_serve_reload_watches_imported_modules_and_ends_without_its_supervisor(
        reloading_program, tmp_path):
    (tmp_path / "server.py").write_text(SERVE_APP)
    helper = tmp_path / "helper.py"
    helper.write_text('VERSION = "one"\n')
    p = reloading_program("server.py", cwd=tmp_path)
    base = p.wait_for(p.urls, "Serving on")[0]
    first = p.answer(base + "/", "<p>one")
    helper.write_text('VERSION = "two"\n')  # a module the program imports
    second = p.answer(base + "/", "<p>two")
    assert p.urls() == [base, base]
    os.kill(p.proc.pid, signal.SIGKILL)  # the supervisor is gone: the server ends too
    p.proc.wait(5)
    p.wait_for(lambda: refused(base), "server stopping without its supervisor", timeout=15)
    server = f"/proc/{pid_of(second)}/cmdline"  # gone, or a zombie (no command line)
    p.wait_for(lambda: not os.path.exists(server) or not open(server).read(),
               "the server's process gone", timeout=15)
    assert pid_of(first) != pid_of(second)


def test_serve_servlet_reload_opens_the_browser_once(reloading_program, tmp_path):
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$1\" >> {opened}\n")
    browser.chmod(0o755)
    script = tmp_path / "server.py"
    body = textwrap.dedent("""
        from gevent import monkey; monkey.patch_all()
        from servlets import response_xexpr, serve_servlet
        def start(request):
            return response_xexpr(("p", "{version}"))
        serve_servlet(start, port=0, stateless=True, reload=True)
    """)
    script.write_text(body.format(version="one"))
    p = reloading_program(str(script), cwd=tmp_path, env={"BROWSER": str(browser)})
    url = p.wait_for(p.urls, "banner")[0]
    p.answer(url + "/servlets/standalone.rkt", "<p>one")
    script.write_text(body.format(version="two"))
    p.answer(url + "/servlets/standalone.rkt", "<p>two")
    p.wait_for(lambda: opened.exists() and opened.read_text(), "the browser opened")
    assert len(p.urls()) == 2
    assert opened.read_text().splitlines() == [url.replace("127.0.0.1", "localhost")
                                               + "/servlets/standalone.rkt"]


def test_example_with_reload_serves_and_stops_with_sigterm(reloading_program):
    p = reloading_program(os.path.join(ROOT, "examples", "servlet_env_hello.py"),
                          "--port", "0", "--no-web-browser", "--reload", cwd=ROOT)
    base = p.wait_for(p.urls, "banner")[0]
    assert "<p>" in p.answer(base + "/servlets/standalone.rkt", "")
    p.proc.send_signal(signal.SIGTERM)  # (a piped standard input does not stop it)
    assert p.proc.wait(15) == 0
    assert refused(base)


def _options(path: str) -> set:
    tree = ast.parse(open(path).read())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
            and node.args and isinstance(node.args[0], ast.Constant)}


@pytest.mark.parametrize("path", sorted(
    p for p in glob.glob(os.path.join(ROOT, "examples", "**", "*.py"), recursive=True)
    if "--port" in _options(p)), ids=lambda p: os.path.relpath(p, ROOT))
def test_every_example_that_takes_port_takes_reload(path):
    assert "--reload" in _options(path)


# --- in-process --------------------------------------------------------------------------

def test_outside_a_reloading_process_nothing_is_watched(monkeypatch):
    monkeypatch.delenv(reloading._RUN, raising=False)
    assert reloading.run_number() == 0
    calls = []
    reloading.watch(lambda **kw: calls.append(kw))
    assert reloading._watching == [] and calls == []


def test_the_server_process_serves_the_port_the_supervisor_chose(monkeypatch):
    monkeypatch.setenv(reloading._RUN, "2")
    monkeypatch.setenv(reloading._PORT, "40123")
    assert reloading.run_number() == 2
    assert reloading.supervise(0, "127.0.0.1") == 40123
    assert reloading.supervise(8000, "127.0.0.1") == 8000  # a port given stays
