"""serve_servlet (Racket's serve/servlet): the composed dispatcher in-process, and whole
programs in subprocesses read from their banner, stopped with enter (on a terminal, or
when asked), end of input (only when asked), ``/quit`` (only when asked) and SIGTERM."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import termios
import textwrap
import time

import gevent
import pytest
import requests

import dispatch.files as files
from dispatch.filesystem_map import make_url_to_path
from servlets import dispatch_servlet, mount, response_jsexpr, response_xexpr
from servlets.servlet_env import serve_servlet_dispatcher
from tests.support import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BANNER = re.compile(r"Your Web application is running at (\S+?)\.$")


def _controlling_terminal() -> None:
    # In the child: a session of its own, whose controlling terminal is its standard
    # input (a pty), with this process group in the foreground, as a shell's job.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Program:
    """A program that serves with serve_servlet, started as a user would; ``url`` is
    what its banner says (with 127.0.0.1 for localhost), ``base`` the server's root.
    ``tty=True``: its standard input is a terminal (a pty), as when run from a shell;
    otherwise a pipe."""

    def __init__(self, argv: list, timeout: float = 20, tty: bool = False) -> None:
        self.terminal = None
        stdin: object = subprocess.PIPE
        if tty:
            self.terminal, stdin = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, *argv], stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1"),
            preexec_fn=_controlling_terminal if tty else None)
        if tty:
            os.close(stdin)  # type: ignore[arg-type]  # the pty's child side
        self.lines: list = []
        self.url = ""
        with gevent.Timeout(timeout, AssertionError(f"{argv} did not start")):
            while not any("Stop this program" in s for s in self.lines):
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"{argv} exited: {self.proc.stderr.read()}")
                self.lines.append(line)
                match = _BANNER.search(line.strip())
                if match:
                    self.url = match.group(1).replace("localhost", "127.0.0.1")
        self.base = re.match(r"https?://[^/]+", self.url).group(0)

    def press_enter(self) -> None:
        if self.terminal is not None:
            os.write(self.terminal, b"\n")
        else:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()

    def wait(self, timeout: float = 10) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def output(self) -> str:
        return "".join(self.lines) + self.proc.stdout.read()

    def output_so_far(self) -> str:
        """The banner's lines (the program is still running)."""
        return "".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.terminal is not None:
            os.close(self.terminal)
            self.terminal = None


@pytest.fixture
def program():
    running = []

    def start(*argv, **kwargs):
        running.append(Program(list(argv), **kwargs))
        return running[-1]

    yield start
    for p in running:
        p.close()
        for stream in (p.proc.stdin, p.proc.stdout, p.proc.stderr):
            if stream is not None:
                stream.close()


def script(body: str, **options) -> tuple:
    """``-c`` code serving ``start`` from ``body`` with serve_servlet(**options)."""
    code = textwrap.dedent("""
        from gevent import monkey; monkey.patch_all()
        from servlets import response_xexpr, serve_servlet
        {body}
        serve_servlet(start, port=0, launch_browser=False, {options})
    """).format(body=textwrap.dedent(body),
                options=", ".join(f"{k}={v!r}" for k, v in options.items()))
    return ("-c", code)


HELLO = """
def start(req):
    return response_xexpr(("p", "Hey out there!"))
"""


# --- whole programs ---------------------------------------------------------------------

def test_banner_servlet_path_404_and_enter_on_a_terminal(program):
    p = program(*script(HELLO), tty=True)
    # The URL that answers, browser or not (Racket names the servlet only with a browser).
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/servlets/standalone\.rkt", p.url)
    assert "Press enter to stop it." in p.output_so_far()
    response = requests.get(p.url, timeout=5)
    assert response.text == "<p>Hey out there!</p>"
    missing = requests.get(p.base + "/elsewhere", timeout=5)
    assert missing.status_code == 404 and "Not Found" in missing.text
    p.press_enter()
    assert p.wait() == 0
    assert "Web Server stopped." in p.output()


@pytest.mark.parametrize("options, path", [
    ({"servlet_path": "/wizard"}, "/wizard"),                        # what the user hit
    ({"servlet_path": "/", "servlet_regexp": ""}, "/"),              # serve_dispatch's
    ({"servlet_path": "/app", "servlet_regexp": "^/app(/|$)"}, "/app"),
    ({"servlet_path": "/elsewhere", "servlet_regexp": "^/app$"}, ""),  # not answered there
])
def test_the_banner_names_the_url_that_answers(program, options, path):
    p = program(*script(HELLO, **options))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", p.base)
    assert p.url == p.base + path
    # (an answer also says the signal handlers are in place)
    answer = requests.get(p.url, timeout=5)
    assert answer.text == "<p>Hey out there!</p>" if path else answer.status_code == 404
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait() == 0


def test_banner_names_the_servlet_when_a_browser_is_launched(program, tmp_path):
    # launch_browser with a browser that only records the URL it is given
    browser = tmp_path / "browser.sh"
    opened = tmp_path / "opened"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(0o755)
    os.environ["BROWSER"] = str(browser)
    try:
        code = script(HELLO, stop_on_enter=True)[1].replace("launch_browser=False",
                                                            "launch_browser=True")
        p = program("-c", code)
    finally:
        del os.environ["BROWSER"]
    assert p.url.endswith("/servlets/standalone.rkt")
    assert wait_until(lambda: opened.exists() and opened.read_text().strip(), 10, 0.05)
    assert opened.read_text().strip().endswith(p.url.split("127.0.0.1")[1])
    p.press_enter()
    assert p.wait() == 0


def test_quit_url_stops_the_server_when_asked(program):
    p = program(*script(HELLO, quit=True))
    assert "visit /quit to stop it." in p.output_so_far()
    response = requests.get(p.base + "/quit", timeout=5)
    assert response.status_code == 200 and "Server Stopped" in response.text
    assert p.wait() == 0


def test_quit_is_off_by_default(program):
    # Racket's default is on (not command-line?): any page could stop the server with
    # <img src="http://127.0.0.1:8000/quit">.
    p = program(*script(HELLO))
    assert requests.get(p.base + "/quit", timeout=5).status_code == 404
    assert requests.get(p.url, timeout=5).text == "<p>Hey out there!</p>"
    assert p.proc.poll() is None
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait() == 0


def test_end_of_input_stops_the_server_when_asked(program):
    p = program(*script(HELLO, stop_on_enter=True))
    p.proc.stdin.close()
    assert p.wait() == 0


def test_enter_stops_the_server_when_asked_on_a_pipe(program):
    p = program(*script(HELLO, stop_on_enter=True))
    p.press_enter()
    assert p.wait() == 0


@pytest.mark.parametrize("stdin", ["closed", "devnull"])
def test_a_closed_input_never_stops_the_server_by_default(program, stdin):
    # `python app.py < /dev/null`, nohup, systemd: what stopped the new user's server.
    p = program(*script(HELLO))
    if stdin == "closed":
        p.proc.stdin.close()
    assert "Press enter" not in p.output_so_far()
    # Answers still, well after the 0.25 s the old behaviour took to stop.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert requests.get(p.url, timeout=5).text == "<p>Hey out there!</p>"
        gevent.sleep(0.1)
    assert p.proc.poll() is None
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait() == 0


def test_a_redirected_input_never_stops_the_server_by_default(tmp_path):
    # The literal `python app.py < /dev/null`, read from its banner.
    proc = subprocess.Popen([sys.executable, *script(HELLO)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT,
                                               PYTHONUNBUFFERED="1"))
    try:
        with gevent.Timeout(20):
            banner = proc.stdout.readline()
        url = _BANNER.search(banner.strip()).group(1).replace("localhost", "127.0.0.1")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert requests.get(url, timeout=5).text == "<p>Hey out there!</p>"
            gevent.sleep(0.1)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert "Web Server stopped." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_command_line_has_no_quit_and_stops_on_sigterm(program):
    p = program(*script(HELLO, command_line=True, banner=True,
                        servlet_path="/hello", servlet_regexp="^/hello$"))
    p.proc.stdin.close()  # end of input does not stop it
    assert requests.get(p.base + "/quit", timeout=5).status_code == 404
    assert requests.get(p.base + "/hello", timeout=5).text == "<p>Hey out there!</p>"
    assert p.proc.poll() is None
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait() == 0


def test_port_in_use_is_reported():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = script(HELLO)[1].replace("port=0", f"port={port}")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), timeout=30,
                              stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "There was an error starting the Web server." in done.stderr
    assert f"The TCP port ({port}) is already in use." in done.stderr


# --- the composed dispatcher ------------------------------------------------------------

def start(req):
    return response_jsexpr({"path": req.path})


@pytest.fixture
def web_root(tmp_path):
    (tmp_path / "htdocs").mkdir()
    (tmp_path / "htdocs" / "index.html").write_text("<p>root index</p>")
    (tmp_path / "htdocs" / "both.txt").write_text("from htdocs")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "not-found.html").write_text("<p>custom not found</p>")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "both.txt").write_text("from extra")
    (tmp_path / "assets" / "css").mkdir(parents=True)
    (tmp_path / "assets" / "css" / "site.css").write_text("body {}")
    (tmp_path / "secret.txt").write_text("secret")
    return tmp_path


def test_files_extra_paths_first_then_htdocs_then_not_found(served, web_root):
    base = served(serve_servlet_dispatcher(
        start, server_root_path=web_root,
        extra_files_paths=[web_root / "extra", ("/static", web_root / "assets")]))
    assert requests.get(base + "/servlets/standalone.rkt", timeout=5).json() \
        == {"path": "/servlets/standalone.rkt"}
    assert requests.get(base + "/both.txt", timeout=5).text == "from extra"
    assert requests.get(base + "/", timeout=5).text == "<p>root index</p>"
    css = requests.get(base + "/static/css/site.css", timeout=5)
    assert (css.status_code, css.text) == (200, "body {}")
    assert css.headers["Content-Type"].startswith("text/css")
    for path in ("/nothing", "/staticx/css/site.css", "/static/../secret.txt",
                 "/static/%2e%2e/secret.txt", "/css/site.css"):
        response = requests.get(base + path, timeout=5)
        assert (response.status_code, response.text) == (404, "<p>custom not found</p>"), path


def test_servlet_regexp_file_not_found_responder_and_log(served, tmp_path):
    log = tmp_path / "access.log"
    base = served(serve_servlet_dispatcher(
        start, servlet_regexp="^/app/",
        file_not_found_responder=lambda req: response_xexpr(("p", "gone: " + req.path),
                                                            code=410),
        log_file=str(log), log_format="paren"))
    assert requests.get(base + "/app/x", timeout=5).json() == {"path": "/app/x"}
    gone = requests.get(base + "/other", timeout=5)
    assert (gone.status_code, gone.text) == (410, "<p>gone: /other</p>")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and "/app/x" in lines[0] and "/other" in lines[1]


def test_servlet_responder_answers_exceptions(served):
    def broken(req):
        raise RuntimeError("no luck")

    base = served(serve_servlet_dispatcher(
        broken, servlet_regexp="",
        servlet_responder=lambda url, exc: response_xexpr(("p", f"{url}: {exc}"), code=500)))
    response = requests.get(base + "/x", timeout=5)
    assert response.status_code == 500 and response.text.endswith("/x: no luck</p>")


def test_mount_moves_the_prefix_to_script_name(served, web_root):
    seen = {}

    def inner(req):
        seen.update(path=req.path, script=req.script_root, url=req.url)
        return response_jsexpr("ok")

    base = served(mount("/api/v1", dispatch_servlet(inner)))
    assert requests.get(base + "/api/v1/items?x=1", timeout=5).json() == "ok"
    assert seen["path"] == "/items" and seen["script"] == "/api/v1"
    assert seen["url"].endswith("/api/v1/items?x=1")
    assert requests.get(base + "/api/v1", timeout=5).json() == "ok" and seen["path"] == "/"
    assert requests.get(base + "/api/v10/items", timeout=5).status_code == 404


def test_mount_serves_dispatch_files_under_a_prefix(served, web_root):
    base = served(mount("/static/", files.make(make_url_to_path(web_root / "assets"))))
    assert requests.get(base + "/static/css/site.css", timeout=5).text == "body {}"
    assert requests.get(base + "/css/site.css", timeout=5).status_code == 404


def test_extra_files_path_must_be_a_directory(tmp_path):
    with pytest.raises(ValueError):
        serve_servlet_dispatcher(start, extra_files_paths=[tmp_path / "absent"])


def test_ssl_from_the_server_root(program, tmp_path):
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "server-cert.pem", tmp_path / "private-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    p = program(*script(HELLO, ssl=True, server_root_path=str(tmp_path), stop_on_enter=True))
    assert p.url.startswith("https://127.0.0.1:")
    page = requests.get(p.base + "/servlets/standalone.rkt", verify=str(cert), timeout=5)
    assert page.text == "<p>Hey out there!</p>"
    p.press_enter()
    assert p.wait() == 0


# --- extra_dispatchers: events and WebSockets on the servlet's port ----------------------

def test_extra_dispatchers_serve_events_and_websockets_before_a_stateful_servlet(served):
    from dispatch.sse import make_sse, sse_send_event
    from dispatch.websocket import is_eof, ws_connect, ws_recv, ws_send, ws_service_mapper
    from servlets import string_arg, ws_dispatch_rules
    from servlets.web import send_suspend
    from tests.sse_client import RawSSE

    feed = make_sse()

    def room(c, name):
        ws_send(c, f"welcome to {name}")
        message = ws_recv(c)
        if not is_eof(message):
            ws_send(c, message.upper())

    def echo(c):
        ws_send(c, ws_recv(c))

    def everything(conn, request):  # a plain dispatcher, tried in its turn
        if request.path != "/plain":
            from dispatch.core import next_dispatcher
            next_dispatcher()
        conn.respond(response_jsexpr("plain"))

    def start(req):  # a stateful servlet: two pages
        first = send_suspend(lambda k: response_xexpr(("a", [("href", k)], "next")))
        return response_jsexpr({"resumed": first.path.split(";")[0]})

    done = gevent.event.Event()
    base = served(serve_servlet_dispatcher(
        start, servlet_path="/app", route="w1", quit_event=done,
        extra_dispatchers=[(r"^/events$", feed),
                           ws_dispatch_rules((("chat", string_arg()), room)),
                           ws_service_mapper(("^/echo$", ([None], echo))),
                           everything]))
    ws = base.replace("http://", "ws://")
    stream = RawSSE(base, "/events")
    assert b"text/event-stream" in stream.head
    sse_send_event(feed, data="card added", event="card")
    assert stream.events(1) == [{"event": "card", "data": "card added"}]
    stream.sock.close()
    chat = ws_connect(ws + "/chat/lobby")
    assert ws_recv(chat) == "welcome to lobby"
    ws_send(chat, "hi")
    assert ws_recv(chat) == "HI"
    plain_echo = ws_connect(ws + "/echo")
    ws_send(plain_echo, "x")
    assert ws_recv(plain_echo) == "x"
    assert requests.get(base + "/plain", timeout=5).json() == "plain"
    # the stateful servlet, its route cookie and its continuation
    browser = requests.Session()
    page = browser.get(base + "/app", timeout=5)
    assert "route=w1; Path=/; HttpOnly; SameSite=Lax" in page.headers["Set-Cookie"]
    k = re.search(r'href="([^"]+)"', page.text).group(1)
    assert browser.get(base + k, timeout=5).json() == {"resumed": "/app"}
    # the rest still declines to the files and the 404; /quit comes first of all
    assert requests.get(base + "/missing", timeout=5).status_code == 404
    assert requests.get(base + "/quit", timeout=5).status_code == 200 and done.is_set()


def test_extra_dispatchers_go_before_the_servlet_for_every_path(served):
    from dispatch.core import next_dispatcher

    def first(conn, request):
        if request.path != "/servlets/standalone.rkt":
            next_dispatcher()
        conn.respond(response_jsexpr("extra first"))

    base = served(serve_servlet_dispatcher(start, stateless=True, extra_dispatchers=[first]))
    assert requests.get(base + "/servlets/standalone.rkt", timeout=5).json() == "extra first"


def composed(conn, request):
    conn.respond(response_jsexpr("never"))


@pytest.mark.parametrize("stateless", [True, False])
def test_a_dispatcher_where_a_servlet_goes_is_a_type_error_at_the_call(stateless):
    from dispatch import sequencer

    # What the new user passed: a composed dispatcher, with stateless=True.
    for dispatcher in (sequencer.make(composed), composed):
        with pytest.raises(TypeError, match="dispatcher .conn, request., not a servlet"):
            serve_servlet_dispatcher(dispatcher, stateless=stateless)


def test_serve_servlet_itself_refuses_a_dispatcher_before_serving():
    from dispatch import sequencer
    from servlets import serve_servlet

    with pytest.raises(TypeError, match="extra_dispatchers"):
        serve_servlet(sequencer.make(composed), port=0, launch_browser=False)


def test_servlet_or_dispatcher_rule():
    import functools

    from servlets.servlet import check_dispatcher, check_servlet
    from servlets.stateful import make

    class Handler:
        def __call__(self, conn, request):
            pass

    def servlet_with_options(request, extra=None, *more, **options):
        pass

    for ok in (start, servlet_with_options, lambda *args: None, functools.partial(
            composed, None), functools.partial(servlet_with_options), print):
        check_servlet(ok, "t")  # callable with the request alone
    for bad in (Handler(), composed, functools.partial(composed)):
        with pytest.raises(TypeError, match="dispatcher"):
            check_servlet(bad, "t")
    with pytest.raises(TypeError, match="no argument"):
        check_servlet(lambda: None, "t")
    with pytest.raises(TypeError, match="must be a procedure"):
        check_servlet("start", "t")
    with pytest.raises(TypeError, match="dispatcher"):
        make(composed)
    with pytest.raises(TypeError, match="dispatcher"):
        dispatch_servlet(Handler())
    check_dispatcher(composed, "t")
    check_dispatcher(Handler(), "t")
    with pytest.raises(TypeError, match="a servlet\\? wrap it: dispatch_servlet"):
        check_dispatcher(start, "t")


@pytest.mark.parametrize("extra, message", [
    ([start], r"extra_dispatchers\[0\]: .*a servlet\? wrap it"),
    (["^/events$"], r"extra_dispatchers\[0\]: a dispatcher is a procedure"),
    ([42], r"extra_dispatchers\[0\]"),
    ([composed, ("^/x", 42)], r"extra_dispatchers\[1\]: a dispatcher is a procedure"),
    (composed, "extra_dispatchers is a list"),
    ("^/events$", "extra_dispatchers is a list"),
    (("^/events$", composed), r"extra_dispatchers is a list: write \["),
])
def test_bad_extra_dispatchers_are_type_errors_at_the_call(extra, message):
    with pytest.raises(TypeError, match=message):
        serve_servlet_dispatcher(start, extra_dispatchers=extra)


def test_an_sse_source_needs_a_path():
    from dispatch.sse import make_sse

    with pytest.raises(TypeError, match="an SSE source needs a path"):
        serve_servlet_dispatcher(start, extra_dispatchers=[make_sse()])


def test_route_is_for_stateful_servlets():
    with pytest.raises(ValueError, match="route="):
        serve_servlet_dispatcher(start, stateless=True, route="w1")


def test_dir_of_servlets_lists_the_lazy_names():
    import subprocess

    # in a fresh interpreter: servlet_env not imported yet, as in a user's first session
    code = ("import sys, servlets; names = dir(servlets); "
            "print('servlets.servlet_env' in sys.modules, "
            "all(n in names for n in ('serve_servlet', 'serve_servlet_dispatcher', 'mount')),"
            " set(servlets.__all__) <= set(names))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert done.stdout.split() == ["False", "True", "True"], done.stderr
