"""The servlet guide's examples (docs/servlet-guide.rst includes them), run as the guide
says and walked over real HTTP, server-sent events and WebSockets on 127.0.0.1: the
board (routes, id-cookie sessions, key rotation, CSRF tokens, a formlet, templates,
static files, an event stream and a chat, all from one serve_servlet call) and the
stateful wizard (send_suspend, the back button, reload, embed_url links)."""
from __future__ import annotations

import json
import re
import signal

import gevent
import pytest
import requests

from dispatch.testing import sse_connect
from dispatch.websocket import HandshakeFailed, ws_close, ws_connect, ws_recv, ws_send
from servlets import ClientCookie, make_id_cookie, make_secret_salt_file, valid_id_cookie
from tests.test_serve_servlet import Program

BOARD = "examples/guide_servlets/board.py"
WIZARD = "examples/guide_servlets/wizard.py"
ORIGIN = "http://board.example"


@pytest.fixture(scope="module")
def salts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("salts")
    return str(directory / "new"), str(directory / "old")


@pytest.fixture(scope="module")
def board(salts):
    new, old = salts
    p = Program([BOARD, "--port", "0", "--no-web-browser", "--salt", new, "--salt", old,
                 "--origin", ORIGIN])
    yield p
    p.close()


def csrf_token(html):
    """The token of the page's (first) form."""
    return re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)" />',
                     html).group(1)


def login_token(board, session):
    """What a browser does first: GET the login page (its csrf cookie and the form's
    token)."""
    page = session.get(board.base + "/login", timeout=5)
    assert page.status_code == 200 and "csrf" in session.cookies
    return csrf_token(page.text)


def logged_in(board, user="alice"):
    session = requests.Session()
    answer = session.post(board.base + "/login",
                          data={"user": user, "csrf_token": login_token(board, session)},
                          allow_redirects=False, timeout=5)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    return session, answer


def cookie_header(session):
    return "user=" + session.cookies["user"]


def test_login_sets_a_signed_lax_http_only_cookie(board):
    anonymous = requests.get(board.base + "/", allow_redirects=False, timeout=5)
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/login"
    session, answer = logged_in(board)
    set_cookie = answer.headers["Set-Cookie"]
    assert re.fullmatch(r"user=[A-Za-z0-9_-]{43}&\d+&alice; Max-Age=28800; Path=/; "
                        r"HttpOnly; SameSite=Lax", set_cookie), set_cookie
    home = session.get(board.base + "/", timeout=5)
    assert 'href="/board/1">Ideas</a>' in home.text and "Log out alice" in home.text
    # a changed value is refused: signed, not merely stored
    forged = session.cookies["user"].replace("&alice", "&mallory")
    refused = requests.get(board.base + "/", headers={"Cookie": f"user={forged}"},
                           allow_redirects=False, timeout=5)
    assert refused.status_code == 303 and refused.headers["Location"] == "/login"
    blank = session.post(board.base + "/login",
                         data={"user": " ", "csrf_token": csrf_token(home.text)}, timeout=5)
    assert blank.status_code == 400 and "Type a name." in blank.text
    bye = session.post(board.base + "/logout",
                       data={"csrf_token": csrf_token(home.text)},
                       allow_redirects=False, timeout=5)
    assert bye.status_code == 303 and "user=;" in bye.headers["Set-Cookie"]


def test_posts_without_this_browsers_csrf_token_are_refused(board):
    session, _ = logged_in(board)
    page = session.get(board.base + "/board/1", timeout=5)
    mine = csrf_token(page.text)
    before = page.text.count("<li>")
    # another browser (another csrf cookie) with its own good token
    other = requests.Session()
    theirs = login_token(board, other)
    assert theirs != mine
    altered = mine[:-1] + ("B" if mine.endswith("A") else "A")
    login, own = cookie_header(session), "csrf=" + session.cookies["csrf"]
    forged = [
        (own, None),                                        # no token
        (own, theirs),                                      # not this browser's
        (own, altered),
        ("csrf=" + other.cookies["csrf"], mine),            # this browser's, other cookie
        ("", mine),                                         # no csrf cookie
    ]
    for csrf_cookie, token in forged:
        data = {"input_0": "forged"} if token is None else {"input_0": "forged",
                                                            "csrf_token": token}
        answer = requests.post(board.base + "/board/1/notes", data=data,
                               headers={"Cookie": f"{login}; {csrf_cookie}".rstrip("; ")},
                               allow_redirects=False, timeout=5)
        assert answer.status_code == 403, (csrf_cookie, token)
        assert "This form did not come from a page of this site" in answer.text
    for path, data in (("/login", {"user": "mallory"}), ("/logout", {})):
        answer = requests.post(board.base + path, data=data, allow_redirects=False,
                               timeout=5)                               # no cookie either
        assert answer.status_code == 403 and "Set-Cookie" not in answer.headers, path
    assert session.get(board.base + "/board/1", timeout=5).text.count("<li>") == before
    # the token of one page serves every form of this browser
    added = session.post(board.base + "/board/1/notes",
                         data={"input_0": "with a token", "csrf_token": mine},
                         allow_redirects=False, timeout=5)
    assert added.status_code == 303


def test_quit_is_not_served(board):
    answer = requests.get(board.base + "/quit", timeout=5)
    assert answer.status_code == 404 and "Nothing is served" in answer.text
    assert requests.get(board.base + "/static/style.css", timeout=5).status_code == 200


def test_key_rotation_accepts_the_old_key_and_refuses_others(board, salts, tmp_path):
    new, old = salts
    for path, accepted in ((old, True), (new, True), (str(tmp_path / "other"), False)):
        cookie = make_id_cookie("user", "bob", key=make_secret_salt_file(path))
        answer = requests.get(board.base + "/", headers={"Cookie": f"user={cookie.value}"},
                              allow_redirects=False, timeout=5)
        assert (answer.status_code == 200) is accepted, (path, answer.status_code)
        if accepted:
            assert "Log out bob" in answer.text
    # new sessions are signed with the first key only
    session, _ = logged_in(board, "carol")
    sent = ClientCookie("user", session.cookies["user"])
    assert valid_id_cookie(sent, name="user", key=make_secret_salt_file(new)) == "carol"
    assert valid_id_cookie(sent, name="user", key=make_secret_salt_file(old)) is None


def test_secure_cookies_flag(tmp_path):
    p = Program([BOARD, "--port", "0", "--no-web-browser", "--salt", str(tmp_path / "salt"),
                 "--secure-cookies"])
    try:
        form = requests.get(p.base + "/login", timeout=5)
        assert re.fullmatch(r"csrf=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Lax",
                            form.headers["Set-Cookie"]), form.headers["Set-Cookie"]
        answer = requests.post(p.base + "/login",
                               data={"user": "dan", "csrf_token": csrf_token(form.text)},
                               headers={"Cookie": "csrf=" + form.cookies["csrf"]},  # Secure:
                               allow_redirects=False, timeout=5)   # a jar keeps it off http
        assert "; Secure; HttpOnly; SameSite=Lax" in answer.headers["Set-Cookie"]
        p.proc.send_signal(signal.SIGTERM)   # as the docstring says: a graceful stop
        assert p.wait() == 0
    finally:
        p.close()


def test_typed_routes_methods_and_not_found(board):
    session, _ = logged_in(board)
    assert "<title>Ideas</title>" in session.get(board.base + "/board/1", timeout=5).text
    no_board = session.get(board.base + "/board/99", timeout=5)
    assert no_board.status_code == 404 and "No such board" in no_board.text
    not_an_integer = session.get(board.base + "/board/one", timeout=5)
    assert not_an_integer.status_code == 404 and "Nothing is served" in not_an_integer.text
    assert session.put(board.base + "/board/1", timeout=5).status_code == 403  # CSRF first
    token = csrf_token(session.get(board.base + "/", timeout=5).text)
    wrong_method = session.put(board.base + "/board/1", headers={"X-CSRF-Token": token},
                               timeout=5)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET, HEAD"


def test_static_files_and_templates(board):
    css = requests.get(board.base + "/static/style.css", timeout=5)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert ".error" in css.text
    assert requests.get(board.base + "/static/none.css", timeout=5).status_code == 404
    session, _ = logged_in(board)
    html = session.get(board.base + "/board/2", timeout=5).text
    assert html.startswith("<!doctype html>")                      # layout.html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert re.search(r'<form method="post" action="/board/2/notes"><input type="hidden" '
                     r'name="csrf_token" value="[^"]+" /><label>Note: <input name="input_0" '
                     r'type="text" /></label> <input type="submit"', html)  # |xexpr, unescaped
    assert 'const board = 2;' in html and '+ "/board/2/chat");' in html


def test_note_form_escapes_and_announces_by_event(board):
    session, _ = logged_in(board)
    token = csrf_token(session.get(board.base + "/board/1", timeout=5).text)
    with sse_connect(board.base + "/events", headers={"Cookie": cookie_header(session)},
                     timeout=5) as events:
        assert events.status_code == 200
        added = session.post(board.base + "/board/1/notes",
                             data={"input_0": "  <b>milk</b> & eggs ", "csrf_token": token},
                             allow_redirects=False, timeout=5)
        assert added.status_code == 303 and added.headers["Location"] == "/board/1"
        event = events.receive(timeout=5)
    assert event.event == "note"
    assert json.loads(event.data) == {"board": 1, "text": "<b>milk</b> & eggs"}
    html = session.get(board.base + "/board/1", timeout=5).text
    assert "<li>&lt;b&gt;milk&lt;/b&gt; &amp; eggs</li>" in html and "<b>milk" not in html
    empty = session.post(board.base + "/board/1/notes",
                         data={"input_0": "  ", "csrf_token": token}, timeout=5)
    assert empty.status_code == 400 and "A note needs some text." in empty.text
    assert csrf_token(empty.text)                                   # the form, again
    missing = session.post(board.base + "/board/1/notes", data={"csrf_token": token},
                           timeout=5)
    assert missing.status_code == 400                               # the formlet's own 400
    anonymous = requests.Session()                                  # a good token, no login
    refused = anonymous.post(board.base + "/board/1/notes",
                             data={"input_0": "x", "csrf_token": login_token(board, anonymous)},
                             allow_redirects=False, timeout=5)
    assert refused.status_code == 403 and "Log in first." in refused.text


def test_events_and_chat_are_for_members_only(board):
    refused = requests.get(board.base + "/events", timeout=5)
    assert refused.status_code == 403 and "Log in first." in refused.text
    ws_base = board.base.replace("http://", "ws://")
    with pytest.raises(HandshakeFailed) as failed:
        ws_connect(ws_base + "/board/1/chat", headers={"Origin": ORIGIN}, timeout=5)
    assert failed.value.status == "HTTP/1.1 403 Forbidden"


def test_chat_per_board_and_origin_check(board):
    session, _ = logged_in(board, "erin")
    ws_base = board.base.replace("http://", "ws://")
    headers = {"Origin": ORIGIN, "Cookie": cookie_header(session)}
    with pytest.raises(HandshakeFailed) as failed:   # another site's page
        ws_connect(ws_base + "/board/1/chat",
                   headers={**headers, "Origin": "http://evil.example"}, timeout=5)
    assert failed.value.status == "HTTP/1.1 403 Forbidden"
    # the server's own origin is accepted too: --origin adds to it
    own = ws_connect(ws_base + "/board/1/chat",
                     headers={**headers, "Origin": board.base}, timeout=5)
    ws_close(own)
    first = ws_connect(ws_base + "/board/1/chat", headers=headers, timeout=5)
    second = ws_connect(ws_base + "/board/1/chat", headers=headers, timeout=5)
    other = ws_connect(ws_base + "/board/2/chat", headers=headers, timeout=5)
    try:
        with gevent.Timeout(5):
            ws_send(first, "hello one")
            assert ws_recv(first) == "erin: hello one"
            assert ws_recv(second) == "erin: hello one"
            ws_send(other, "hello two")
            # board 2's first message is its own: board 1's never reached it
            assert ws_recv(other) == "erin: hello two"
    finally:
        for c in (first, second, other):
            ws_close(c)


# -- the wizard ------------------------------------------------------------------------------

@pytest.fixture
def wizard():
    p = Program([WIZARD, "--port", "0", "--no-web-browser"])
    yield p
    p.close()


def _action(html):
    return re.search(r'action="([^"]+)"', html).group(1)


def _title(html):
    return re.search(r"<title>([^<]*)</title>", html).group(1)


def _answer(session, base, k_url, answer):
    """POST an answer; the wizard answers 303 (redirect_get) and the GET lands."""
    posted = session.post(base + k_url, data={"answer": answer}, allow_redirects=False,
                          timeout=5)
    assert posted.status_code == 303, posted.text
    location = posted.headers["Location"]
    return location, session.get(base + location, timeout=5).text


def test_wizard_back_button_reload_and_embed_url(wizard):
    base, s = wizard.base, requests.Session()
    first = s.get(base + "/wizard", timeout=5).text
    assert _title(first) == "What is your name?"
    k_name = _action(first)
    assert re.fullmatch(r"/wizard;k=[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{22}", k_name)
    at, second = _answer(s, base, k_name, "Ann")
    assert _title(second) == "How old are you?"
    # reload: the page is rendered again, same form, nothing posted again
    again = s.get(base + at, timeout=5).text
    assert _title(again) == "How old are you?" and _action(again) == _action(second)
    # back to the name form and submit it again: send_suspend's URL resumes once
    spent = s.post(base + k_name, data={"answer": "Bob"}, timeout=5)
    assert spent.status_code == 410 and "Sorry, this page has expired" in spent.text
    # a wrong answer asks again, with the reason
    _, retry = _answer(s, base, _action(second), "forty")
    assert _title(retry) == "How old are you?"
    assert "<p class=\"error\">'forty' is not a whole number.</p>" in retry
    at, check = _answer(s, base, _action(retry), "42")
    assert _title(check) == "Please check" and "<p>Ann, 42</p>" in check
    assert _title(s.get(base + at, timeout=5).text) == "Please check"   # reload
    change = re.search(r'<a href="([^"]+)">Change the name</a>', check).group(1)
    confirm = _action(check)
    # embed_url links work any number of times (the back button, two tabs)
    for _ in range(2):
        assert _title(s.get(base + change, timeout=5).text) == "What is your name?"
    done = s.post(base + confirm, timeout=5).text
    assert _title(done) == "Thank you" and "1 signed up so far." in done
    # send_finish cleared the table: confirming again from the back button is refused
    twice = s.post(base + confirm, timeout=5)
    assert twice.status_code == 410 and "Sorry, this page has expired" in twice.text


# -- the board in a browser ----------------------------------------------------------------

def test_board_in_chromium_logs_in_chats_and_sees_new_notes(tmp_path):
    from tests.support import (
        browser_wait,
        chromium_or_skip,
        leave_page,
        on_new_page,
        quit_chromium,
    )

    driver = chromium_or_skip()
    # no --origin: the page's own origin is the one that opens the chat
    p = Program([BOARD, "--port", "0", "--no-web-browser", "--salt", str(tmp_path / "salt")])
    try:
        driver.get(p.base + "/")
        driver.find_element("name", "user").send_keys("alice")
        driver.find_element("css selector", "input[type=submit]").click()
        browser_wait(driver, lambda d: d.title == "Boards")
        driver.find_element("link text", "Ideas").click()
        # the SSE stream and the chat are open
        browser_wait(driver, lambda d: d.find_element("id", "live").text == "(live)")
        driver.find_element("id", "message").send_keys("hello from the browser")
        driver.find_element("css selector", "#say input[type=submit]").click()
        browser_wait(driver, lambda d: "alice: hello from the browser"
                     in d.find_element("id", "chat").text)
        # another user adds a note: the open page shows it, by the event stream
        bob = requests.Session()
        bob.post(p.base + "/login", data={"user": "bob", "csrf_token": login_token(p, bob)},
                 timeout=5)
        assert bob.post(p.base + "/board/1/notes",
                        data={"input_0": "from bob", "csrf_token": csrf_token(
                            bob.get(p.base + "/board/1", timeout=5).text)},
                        timeout=5).status_code == 200
        browser_wait(driver, lambda d: "from bob" in d.find_element("id", "notes").text)
        # and the page's own form: POST, redirect, GET; a new page lists the note (the
        # event stream also adds it to the page being left: wait for that one to go)
        leave_page(driver)
        driver.find_element("name", "input_0").send_keys("from alice")
        driver.find_element("css selector", "form[method=post] input[type=submit]").click()
        browser_wait(driver, on_new_page)
        browser_wait(driver, lambda d: "from alice" in d.find_element("id", "notes").text)
        assert [li.text for li in driver.find_elements("css selector", "#notes li")] \
            == ["from bob", "from alice"]
        assert driver.current_url == p.base + "/board/1"
    finally:
        p.close()
        quit_chromium(driver)
