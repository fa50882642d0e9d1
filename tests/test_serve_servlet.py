"""serve_servlet (Racket's serve/servlet): the composed dispatcher in-process, and whole
programs in subprocesses read from their banner, stopped with enter, end of input,
``/quit`` and SIGTERM."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import gevent
import pytest
import requests

import dispatch.files as files
from dispatch.filesystem_map import make_url_to_path
from servlets import dispatch_servlet, mount, response_jsexpr, response_xexpr
from servlets.servlet_env import serve_servlet_dispatcher

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BANNER = re.compile(r"Your Web application is running at (\S+?)\.$")


class Program:
    """A program that serves with serve_servlet, started as a user would; ``url`` is
    what its banner says (with 127.0.0.1 for localhost), ``base`` the server's root."""

    def __init__(self, argv: list, timeout: float = 20) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1"))
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
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 10) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def output(self) -> str:
        return "".join(self.lines) + self.proc.stdout.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


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

def test_banner_servlet_path_404_and_enter(program):
    p = program(*script(HELLO))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", p.url)  # no browser: the server's URL
    response = requests.get(p.base + "/servlets/standalone.rkt", timeout=5)
    assert response.text == "<p>Hey out there!</p>"
    missing = requests.get(p.base + "/elsewhere", timeout=5)
    assert missing.status_code == 404 and "Not Found" in missing.text
    p.press_enter()
    assert p.wait() == 0
    assert "Web Server stopped." in p.output()


def test_banner_names_the_servlet_when_a_browser_is_launched(program, tmp_path):
    # launch_browser with a browser that only records the URL it is given
    browser = tmp_path / "browser.sh"
    opened = tmp_path / "opened"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(0o755)
    os.environ["BROWSER"] = str(browser)
    try:
        code = script(HELLO)[1].replace("launch_browser=False", "launch_browser=True")
        p = program("-c", code)
    finally:
        del os.environ["BROWSER"]
    assert p.url.endswith("/servlets/standalone.rkt")
    with gevent.Timeout(10):
        while not (opened.exists() and opened.read_text().strip()):
            gevent.sleep(0.05)
    assert opened.read_text().strip().endswith(p.url.split("127.0.0.1")[1])
    p.press_enter()
    assert p.wait() == 0


def test_quit_url_stops_the_server(program):
    p = program(*script(HELLO))
    response = requests.get(p.base + "/quit", timeout=5)
    assert response.status_code == 200 and "Server Stopped" in response.text
    assert p.wait() == 0


def test_end_of_input_stops_the_server(program):
    p = program(*script(HELLO))
    p.proc.stdin.close()
    assert p.wait() == 0


def test_command_line_has_no_quit_and_stops_on_sigterm(program):
    p = program(*script(HELLO, command_line=True, banner=True,
                        servlet_path="/hello", servlet_regexp="^/hello$"))
    p.proc.stdin.close()  # no quit: end of input does not stop it
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
    p = program(*script(HELLO, ssl=True, server_root_path=str(tmp_path)))
    assert p.url.startswith("https://127.0.0.1:")
    page = requests.get(p.base + "/servlets/standalone.rkt", verify=str(cert), timeout=5)
    assert page.text == "<p>Hey out there!</p>"
    p.press_enter()
    assert p.wait() == 0
