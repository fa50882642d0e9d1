"""CSRF tokens for plain forms (servlets.csrf, dispatch.http.csrf) over real sockets: the
signed double-submit cookie, tokens bound to a session, the formlet, the 403 page.  The
same with headless Chromium posting from other origins: tests/test_safe_browser.py."""
from __future__ import annotations

import html
import re

import pytest
import requests

from servlets import (
    CsrfError,
    check_csrf,
    csrf_field,
    csrf_formlet,
    csrf_protect,
    csrf_token,
    dispatch_rules,
    dispatch_servlet,
    response_jsexpr,
    response_xexpr,
    valid_csrf_token,
)
from servlets.formlets import formlet, formlet_display, formlet_process, input_string, send_formlet
from servlets.request import Request
from servlets.stateful import make

KEY = b"k" * 32
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

cards: list = []


def board(req):
    return response_xexpr(("html", ("body", ("form", [("method", "post"), ("action", "/cards")],
                                             csrf_field(req, key=KEY),
                                             ("input", [("name", "title")])))))


def add_card(req):
    cards.append(req.form["title"])
    return response_jsexpr(cards)


dispatch, url = dispatch_rules((("",), board), (("cards",), "post", add_card))


@pytest.fixture
def app(served):
    cards.clear()
    return served(dispatch_servlet(csrf_protect(dispatch, key=KEY)))


def page_token(session: requests.Session, base: str) -> str:
    return TOKEN.search(session.get(base + "/", timeout=5).text).group(1)


def test_the_page_sets_the_cookie_once_and_its_token_posts(app):
    browser = requests.Session()
    first = browser.get(app + "/", timeout=5)
    assert re.fullmatch(r"csrf=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax",
                        first.headers["Set-Cookie"])
    token = TOKEN.search(first.text).group(1)
    again = browser.get(app + "/", timeout=5)
    assert "Set-Cookie" not in again.headers  # it has the cookie now
    assert TOKEN.search(again.text).group(1) != token  # a fresh salt every time...
    posted = browser.post(app + "/cards", data={"title": "a", "csrf_token": token}, timeout=5)
    assert posted.status_code == 200 and posted.json() == ["a"]
    # ... and the older one still good: any page's form of this browser posts
    fresh = TOKEN.search(again.text).group(1)
    assert browser.post(app + "/cards", data={"title": "b", "csrf_token": fresh},
                        timeout=5).json() == ["a", "b"]


def test_scripts_send_the_token_in_a_header(app):
    browser = requests.Session()
    token = page_token(browser, app)
    posted = browser.post(app + "/cards", data={"title": "x"},
                          headers={"X-CSRF-Token": token}, timeout=5)
    assert posted.json() == ["x"]


@pytest.mark.parametrize("forge", ["no token", "no cookie", "another browser's token",
                                   "tampered", "another key", "garbage"])
def test_forged_posts_get_a_clear_403_and_change_nothing(app, forge):
    victim, attacker = requests.Session(), requests.Session()
    token = page_token(victim, app)
    data = {"title": "forged", "csrf_token": token}
    cookies = None
    if forge == "no token":
        del data["csrf_token"]
    elif forge == "no cookie":
        cookies = requests.Session()  # a fresh browser: the token alone is not enough
    elif forge == "another browser's token":
        data["csrf_token"] = page_token(attacker, app)
    elif forge == "tampered":
        data["csrf_token"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    elif forge == "another key":
        req = Request.from_values(headers={"Cookie": f"csrf={victim.cookies['csrf']}"})
        data["csrf_token"] = csrf_token(req, key=b"other key")
    elif forge == "garbage":
        data["csrf_token"] = "x" * 60
    answer = (cookies or victim).post(app + "/cards", data=data, timeout=5)
    assert (answer.status_code, answer.reason) == (403, "Forbidden")
    assert "Reload the page with the form and submit it again." in html.unescape(answer.text)
    assert cards == []


def test_safe_methods_are_not_checked(app):
    assert requests.get(app + "/", timeout=5).status_code == 200
    assert requests.head(app + "/", timeout=5).status_code == 200


def test_tokens_bound_to_a_session_need_no_cookie(served):
    def start(req):
        user = req.headers.get("X-User")  # stands for the login's id cookie
        if req.method == "GET":
            return response_jsexpr(csrf_token(req, key=KEY, session=user))
        check_csrf(req, key=KEY, session=user)
        return response_jsexpr("changed")

    base = served(dispatch_servlet(start))
    alice = requests.get(base + "/", headers={"X-User": "alice"}, timeout=5)
    assert "Set-Cookie" not in alice.headers
    token = alice.json()
    ok = requests.post(base + "/", data={"csrf_token": token}, headers={"X-User": "alice"},
                       timeout=5)
    assert ok.json() == "changed"
    mallory = requests.post(base + "/", data={"csrf_token": token},
                            headers={"X-User": "mallory"}, timeout=5)
    assert mallory.status_code == 403  # alice's token is hers alone


def test_the_formlet_carries_and_checks_the_token(served):
    def start(req):
        card = formlet(("div", csrf_formlet(req, key=KEY), input_string),
                       lambda _csrf, title: title)
        if req.method == "GET":
            return response_xexpr(("form", [("method", "post")], *formlet_display(card)))
        return response_jsexpr(formlet_process(card, req))

    base = served(dispatch_servlet(csrf_protect(start, key=KEY)))
    browser = requests.Session()
    page = browser.get(base + "/", timeout=5).text
    assert re.search(r'<input name="input_0" type="text" />', page)  # numbering unchanged
    token = TOKEN.search(page).group(1)
    posted = browser.post(base + "/", data={"csrf_token": token, "input_0": "t"}, timeout=5)
    assert posted.json() == "t"
    # Without csrf_protect's own check, the formlet still refuses a forged form.
    bare = served(dispatch_servlet(start))
    for data in ({"csrf_token": "x" * 60, "input_0": "t"}, {"input_0": "t"}):
        assert browser.post(bare + "/", data=data, timeout=5).status_code == 403


def test_the_formlet_in_a_stateful_servlet(served):
    def start(req):
        title = send_formlet(formlet(("div", csrf_formlet(req, key=KEY), input_string),
                                     lambda _csrf, title: title))
        return response_jsexpr(title)

    base = served(make(start))
    page = requests.get(base + "/", timeout=5).text
    action = re.search(r'action="([^"]+)"', page).group(1)
    token = TOKEN.search(page).group(1)
    answer = requests.post(base + action, data={"csrf_token": token, "input_0": "hi"},
                           timeout=5)
    assert answer.json() == "hi"


def test_valid_csrf_token_and_errors_at_the_call():
    req = Request.from_values(headers={"Cookie": "csrf=" + "a" * 43})
    token = csrf_token(req, key=KEY)
    assert valid_csrf_token(req, token, key=KEY)
    assert not valid_csrf_token(req, token, key=KEY + b"x")
    assert not valid_csrf_token(Request.from_values(), token, key=KEY)
    with pytest.raises(TypeError, match="key"):
        csrf_token(req, key="a string")
    with pytest.raises(TypeError, match="session"):
        csrf_token(req, key=KEY, session=42)
    with pytest.raises(TypeError, match="servlet"):
        csrf_protect("not a servlet", key=KEY)
    post = Request.from_values(method="POST", data={"csrf_token": "nope"})
    with pytest.raises(CsrfError) as refused:
        check_csrf(post, key=KEY)
    assert refused.value.code == 403
