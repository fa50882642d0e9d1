"""Safe defaults in a real headless Chromium, as the new user of issue 24 tried them: the
team board example (examples/team_board.py: pages, server-sent events and a WebSocket
chat on one serve_servlet port) walked in two tabs, then attacked from pages on other
origins (``http://localhost:B`` is another site than ``http://127.0.0.1:A``;
``http://127.0.0.1:B`` the same site on another port): cross-site form posts (CSRF) and
cross-site WebSocket handshakes are refused."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from urllib.parse import quote

import gevent
import pytest

from servlets import (
    dispatch_rules,
    dispatch_servlet,
    make_id_cookie,
    request_id_cookie,
    response_full,
    response_xexpr,
)
from tests.support import PAGE_WAIT, ROOT, browser_wait

WAIT = PAGE_WAIT  # seconds for any page to show what it should
_BANNER = re.compile(r"Your Web application is running at (http://\S+?)\.$")


@pytest.fixture
def board(tmp_path):
    """The example, started as under nohup or systemd: standard input closed (it must
    keep serving); stopped with SIGTERM.  Yields its base URL on 127.0.0.1."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "examples", "team_board.py"), "--port", "0",
         "--no-web-browser", "--salt", str(tmp_path / "salt")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1"))
    try:
        with gevent.Timeout(20, AssertionError("team_board.py did not start")):
            match = None
            while match is None:
                line = proc.stdout.readline()
                assert line, proc.stderr.read()
                match = _BANNER.search(line.strip())
        url = match.group(1).replace("localhost", "127.0.0.1")
        assert url.endswith("/")  # the banner names the URL that answers
        yield url.rstrip("/")
        assert proc.poll() is None  # closed input or not, still serving
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


# -- another site's pages ----------------------------------------------------------------

def forged_form(req):
    """A page that posts a form to ``target`` as soon as it loads."""
    target = req.args["target"]
    fields = json.loads(req.args.get("fields", "{}"))
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    body = (f'<html><head><title>forging</title></head><body>'
            f'<form id="f" method="post" action="{target}">{inputs}</form>'
            f'<script>document.getElementById("f").submit();</script></body></html>')
    return response_full(200, None, None, b"text/html; charset=utf-8", [], [body.encode()])


def websocket_probe(req):
    """A page that opens a WebSocket to ``target``; its title says what happened."""
    target = req.args["target"]
    script = (f'var s = new WebSocket({json.dumps(target)});'
              'var done = false;'
              's.onopen = function () { done = true; document.title = "opened"; };'
              's.onclose = function () { if (!done) document.title = "refused"; };')
    body = (f"<html><head><title>probing</title></head><body>"
            f"<script>{script}</script></body></html>")
    return response_full(200, None, None, b"text/html; charset=utf-8", [], [body.encode()])


elsewhere, _ = dispatch_rules((("csrf",), forged_form), (("ws",), websocket_probe))


@pytest.fixture
def other_site(served):
    """The attacker's server on port B: ``(cross_site, same_site)`` base URLs for it,
    ``http://localhost:B`` and ``http://127.0.0.1:B``."""
    base = served(dispatch_servlet(elsewhere))
    port = base.rsplit(":", 1)[1]
    return f"http://localhost:{port}", f"http://127.0.0.1:{port}"


# -- helpers -----------------------------------------------------------------------------

def wait_for(driver, predicate, what: str):
    browser_wait(driver, predicate, what, within=WAIT)


def card_titles(driver) -> list:
    return [li.text for li in driver.find_elements("css selector", "#cards li")]


def log_in(driver, base: str, name: str) -> None:
    driver.get(base + "/")
    wait_for(driver, lambda d: d.title == "Log in", "the login page")
    driver.find_element("id", "user").send_keys(name)
    driver.find_element("css selector", "input[type=submit]").click()
    wait_for(driver, lambda d: d.title == "Team board", "the board after logging in")


def cookie_of(driver, name: str) -> dict:
    return next(c for c in driver.get_cookies() if c["name"] == name)


def forge(driver, site: str, target: str, **fields) -> None:
    driver.get(f"{site}/csrf?target={quote(target)}&fields={quote(json.dumps(fields))}")
    wait_for(driver, lambda d: d.title not in ("", "forging"), f"the answer to {target}")


# -- the example, walked -----------------------------------------------------------------

def test_the_team_board_on_one_port_in_two_tabs(browser, board):
    log_in(browser, board, "alice")
    login = cookie_of(browser, "user")
    assert login["sameSite"] == "Lax" and login["httpOnly"]
    watcher = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(board + "/board")
        wait_for(browser, lambda d: d.title == "Team board", "the board in a second tab")
        browser.find_element("id", "title").send_keys("First card")
        browser.find_element("id", "add").click()  # a plain form, with its CSRF token
        wait_for(browser, lambda d: card_titles(d) == ["First card"], "the posted card")
        # the chat: this tab speaks, the other hears (the WebSocket is same-origin)
        wait_for(browser, lambda d: d.execute_script("return socket.readyState") == 1,
                 "the chat open")
        browser.find_element("id", "message").send_keys("hello team")
        browser.find_element("css selector", "#say button").click()
        wait_for(browser, lambda d: "alice: hello team" in
                 d.find_element("id", "chat").get_attribute("value"), "the chat echo")
    finally:
        browser.close()
        browser.switch_to.window(watcher)
    # the first tab got the card by server-sent events and the message by WebSocket
    wait_for(browser, lambda d: card_titles(d) == ["First card"], "the card, live")
    wait_for(browser, lambda d: "alice: hello team" in
             d.find_element("id", "chat").get_attribute("value"), "the chat, live")


# -- cross-site request forgery ----------------------------------------------------------

@pytest.mark.parametrize("which", ["cross-site", "same-site"])
def test_a_forged_form_post_is_refused(browser, board, other_site, which):
    log_in(browser, board, "alice")
    site = other_site[0] if which == "cross-site" else other_site[1]
    forge(browser, site, board + "/cards", title="forged card")
    assert browser.title == "Forbidden"
    assert "Reload the page with the form and submit it again." in \
        browser.find_element("tag name", "body").text
    browser.get(board + "/board")
    wait_for(browser, lambda d: d.title == "Team board", "the board, still logged in")
    assert "forged card" not in card_titles(browser)


def test_same_site_lax_keeps_the_login_out_of_cross_site_posts(browser, served, other_site):
    """Why the token still matters: a page on another port of the same host is the same
    site, and its posts carry a SameSite=Lax login; another site's do not."""
    key = b"k" * 32

    def login(req):
        return response_xexpr(("html", ("head", ("title", "in"))),
                              cookies=[make_id_cookie("user", "alice", key=key, path="/")])

    def whoami(req):
        user = request_id_cookie(req, name="user", key=key) or "nobody"
        return response_xexpr(("html", ("head", ("title", user))))

    probe, _ = dispatch_rules((("login",), login), (("whoami",), "post", whoami))
    base = served(dispatch_servlet(probe))
    browser.get(base + "/login")
    wait_for(browser, lambda d: d.title == "in", "the probe's login")
    forge(browser, other_site[0], base + "/whoami")
    assert browser.title == "nobody"  # localhost -> 127.0.0.1: another site
    forge(browser, other_site[1], base + "/whoami")
    assert browser.title == "alice"   # 127.0.0.1:B -> 127.0.0.1:A: the same site


# -- WebSocket origins -------------------------------------------------------------------

def probe_websocket(driver, page_site: str, target: str) -> str:
    driver.get(f"{page_site}/ws?target={quote(target)}")
    wait_for(driver, lambda d: d.title in ("opened", "refused"), f"the handshake to {target}")
    return driver.title


def test_a_websocket_from_another_origin_is_refused(browser, board, other_site):
    log_in(browser, board, "alice")  # the handshake would carry the login
    chat = board.replace("http://", "ws://") + "/chat"
    assert probe_websocket(browser, other_site[0], chat) == "refused"
    assert probe_websocket(browser, other_site[1], chat) == "refused"
    # the board's own page opens it (the default allows the server's own host)
    browser.get(board + "/board")
    wait_for(browser, lambda d: d.execute_script("return socket.readyState") == 1,
             "the chat from its own page")


def test_origins_lets_a_named_site_in(browser, served, other_site):
    from dispatch.websocket import make_general_websockets_dispatcher, ws_send

    def hello(c, state):
        ws_send(c, "hello")

    cross_site, same_site = other_site
    base = served(make_general_websockets_dispatcher(hello, origins=[cross_site]))
    target = base.replace("http://", "ws://") + "/"
    assert probe_websocket(browser, cross_site, target) == "opened"
    assert probe_websocket(browser, same_site, target) == "refused"  # not listed
