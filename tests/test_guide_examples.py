"""The examples of Racket's guide "Web Applications in Racket" (web-server-doc's
servlet.scrbl, page.scrbl, web-cells.scrbl and web.scrbl), ported in examples/guide/:
each run as a program, as its docstring starts it, and walked over HTTP as a browser
would. The back button is walked in headless Chromium in test_guide_browser.py."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from urllib.parse import urljoin, urlsplit

import gevent
import pytest
import requests

from tests.support import ROOT

_BANNER = re.compile(r"Your Web application is running at (http://\S+?)\.?$")
_LINK = re.compile(r'(?:href|action)="([^"]*)"')
TIMEOUT = 5


class GuideProgram:
    """``python examples/guide/NAME.py --port 0``; ``url`` is where it serves."""

    def __init__(self, name: str, timeout: float = 20) -> None:
        script = os.path.join(ROOT, "examples", "guide", name + ".py")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--port", "0"], cwd=ROOT,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.url = ""
        with gevent.Timeout(timeout, AssertionError(f"{name} did not start")):
            while not self.url:
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"{name} exited: {self.proc.stderr.read()}")
                match = _BANNER.search(line.strip())
                if match:
                    # the server's root (the banner names the servlet's own URL)
                    parts = urlsplit(match.group(1).replace("localhost", "127.0.0.1"))
                    self.url = f"{parts.scheme}://{parts.netloc}/"

    def get(self, url: str, **params) -> requests.Response:
        return requests.get(urljoin(self.url, url), params=params or None, timeout=TIMEOUT)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM: a graceful stop, exit status 0."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def program():
    running = []

    def start(name):
        running.append(GuideProgram(name))
        return running[-1]

    yield start
    for p in running:
        p.close()


def links(response: requests.Response) -> list[str]:
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return [html.unescape(u) for u in _LINK.findall(response.text)]


def text(response: requests.Response, tag: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", response.text)]


# -- servlet.scrbl ----------------------------------------------------------------------

def test_servlet_module(program):
    p = program("servlet")
    hello = p.get("/")
    assert hello.status_code == 200 and text(hello, "h1") == ["Hi Mom!"]
    assert text(hello, "title") == ["Hello World!"]
    # the none manager keeps no continuation: any continuation URL gets its page
    gone = p.get("/;k=" + "a" * 22 + ".1." + "b" * 22)
    assert text(gone, "h1") == ["No Continuations Here!"]
    assert p.stop() == 0


def test_the_servlet_module_provides_what_racket_s_do():
    sys.path.insert(0, os.path.join(ROOT, "examples", "guide"))
    try:
        import servlet as module  # the example, as a module
    finally:
        sys.path.pop(0)
        sys.modules.pop("servlet", None)
    assert module.interface_version == "v2"
    assert callable(module.start) and module.manager is not None


# -- page.scrbl ---------------------------------------------------------------------------

def test_page_click_me(program):
    p = program("page")
    first = p.get("/")
    assert "Click me" in first.text
    clicked = p.get(links(first)[0])
    assert clicked.status_code == 200 and text(clicked, "p") == ["You clicked!"]
    assert p.stop() == 0


# -- web-cells.scrbl ----------------------------------------------------------------------

def counters(response):
    assert response.status_code == 200, response.text[:300]
    return [int(n) for n in re.findall(r'<h3 class="count">(\d+)</h3>', response.text)]


def test_web_cells_double_counters(program):
    p = program("web_cells")
    page0 = p.get("/")
    assert counters(page0) == [0, 0]
    first_plus, second_plus = links(page0)
    page1 = p.get(first_plus)
    assert counters(page1) == [1, 0]
    page2 = p.get(links(page1)[0])
    assert counters(page2) == [2, 0]
    # from page 1 (the back button), the second counter: page 1's values go on
    assert counters(p.get(links(page1)[1])) == [1, 1]
    # from the first page, twice: each time from 0
    assert counters(p.get(second_plus)) == [0, 1]
    assert counters(p.get(second_plus)) == [0, 1]
    assert counters(p.get(links(page2)[0])) == [3, 0]
    assert p.stop() == 0


# -- web.scrbl ------------------------------------------------------------------------------

def test_sum_send_suspend_expiration_and_send_finish(program):
    p = program("sum")
    ask1 = p.get("/")
    assert text(ask1, "title") == ["Enter a number"]
    ask2 = p.get(links(ask1)[0], number="3")
    total = p.get(links(ask2)[0], number="4")
    assert text(total, "h1") == ["The sum is: 7"]
    add_another, log_out = links(total)
    # "Add another number" can be used from the same page again and again
    for n in ("10", "20"):
        more = p.get(links(p.get(add_another))[0], number=n)
        assert text(more, "h1") == [f"The sum is: {7 + int(n)}"]
    # a used send_suspend URL: the servlet's own expiration page
    assert text(p.get(links(ask1)[0], number="5"), "p") == ["Custom Expiration!"]
    bye = p.get(log_out)
    assert text(bye, "title") == ["Logged out"]
    assert "Add Two Numbers, Inc." in bye.text
    # send_finish cleared the table: the many-times link is gone too
    assert text(p.get(add_another), "p") == ["Custom Expiration!"]
    assert p.stop() == 0


@pytest.mark.parametrize("number, shown", [("4", "1 / n = 0.25"), ("0", None)])
def test_reciprocal_with_errors_to_browser(program, number, shown):
    p = program("reciprocal")
    answer = p.get(links(p.get("/"))[0], number=number)
    if shown is not None:
        assert answer.status_code == 200 and text(answer, "p") == [shown]
    else:
        assert answer.status_code == 500
        assert "The following error occured: " in answer.text
        assert "ZeroDivisionError" in answer.text
    assert p.stop() == 0


def count(response) -> int:
    return int(text(response, "h1")[0])


def test_count_dot_com_callbacks(program):
    p = program("count_dot_com")
    page0 = p.get("/callbacks")
    minus0, plus0 = links(page0)
    page1 = p.get(plus0)
    page2 = p.get(links(page1)[1])
    assert [count(page0), count(page1), count(page2)] == [0, 1, 2]
    # the callbacks run each time they are used: an older page counts from its number
    assert count(p.get(plus0)) == 1 and count(p.get(minus0)) == -1
    assert count(p.get(links(page1)[0])) == 0
    assert p.stop() == 0


def test_count_dot_com_values(program):
    p = program("count_dot_com")
    page0 = p.get("/values")
    minus0, plus0 = links(page0)
    page1 = p.get(plus0)
    page2 = p.get(links(page1)[1])
    assert [count(page0), count(page1), count(page2)] == [0, 1, 2]
    assert count(p.get(links(page2)[0])) == 1
    # the rest of the function after a page runs once: an older page's link expires
    again = p.get(plus0)
    assert "Sorry, this page has expired." in again.text
    assert p.stop() == 0


def test_count_dot_com_index(program):
    p = program("count_dot_com")
    assert links(p.get("/")) == ["/values", "/callbacks"]
    assert p.stop() == 0
