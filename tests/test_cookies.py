"""Cookies over real sockets: cookies= on every response constructor, request_cookies
with malformed headers, signed id cookies (tampered, other key, expired, logout), and
the basic-auth helpers."""
import base64
import datetime

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.http import id_cookie as id_cookie_module
from dispatch.testing import Client
from servlets import (
    TEXT_HTML_MIME_TYPE,
    dispatch_servlet,
    logout_id_cookie,
    make_basic_auth_header,
    make_cookie,
    make_id_cookie,
    redirect_to,
    request_cookies,
    request_id_cookie,
    request_to_basic_credentials,
    response_empty,
    response_full,
    response_jsexpr,
    response_output,
    response_xexpr,
)
from servlets.cookies import ClientCookie, parse_cookie_header

KEY = b"k" * 32


@pytest.mark.parametrize("make", [
    lambda c: response_xexpr(("p", "x"), cookies=c),
    lambda c: response_jsexpr(1, cookies=c),
    lambda c: response_empty(cookies=c),
    lambda c: response_full(200, None, None, TEXT_HTML_MIME_TYPE, [], [b"x"], cookies=c),
    lambda c: response_output(lambda out: out.write("x"), cookies=c),
    lambda c: redirect_to("/elsewhere", cookies=c),
], ids=["xexpr", "jsexpr", "empty", "full", "output", "redirect"])
def test_every_response_constructor_sets_cookies(served, make):
    cookies = [make_cookie("time", "123"), make_cookie("id", "joseph", secure=True)]
    base = served(dispatch_servlet(lambda req: make(cookies)))
    response = requests.get(base + "/", allow_redirects=False, timeout=5)
    assert response.raw.headers.getlist("Set-Cookie") == ["time=123", "id=joseph; Secure"]


def test_cookie_round_trip_through_a_client(served):
    def start(req):
        seen = {c.name: c.value for c in request_cookies(req)}
        return response_jsexpr(seen, cookies=[make_cookie("visits", str(
            int(seen.get("visits", "0")) + 1), path="/", http_only=True, same_site="lax")])

    base = served(dispatch_servlet(start))
    session = requests.Session()
    assert session.get(base + "/", timeout=5).json() == {}
    first = session.get(base + "/", timeout=5)
    assert first.json() == {"visits": "1"}
    assert first.headers["Set-Cookie"] == "visits=2; Path=/; HttpOnly; SameSite=Lax"


@pytest.mark.parametrize("header, expected", [
    ("a=1; b=2", [("a", "1"), ("b", "2")]),
    ("a=1;;b=2;", [("a", "1"), ("b", "2")]),
    ("a=1; novalue; =x; b c=3; d=\"q\"; e=x\\y; f=ok", [("a", "1"), ("d", "q"), ("f", "ok")]),
    ("a=1, b=2", [("a", "1"), ("b", "2")]),          # two Cookie headers joined
    ("a=\u00e9t\u00e9".encode().decode("latin-1"), [("a", "\u00e9t\u00e9")]),
    ("a=\xff\xfe", []),                               # not UTF-8: skipped
    ("garbage", []),
    ("; ; ;", []),
])
def test_malformed_cookie_fields_are_skipped_one_by_one(header, expected):
    seen = []
    Client(dispatch_servlet(lambda req: seen.extend(request_cookies(req))
                            or response_empty()), use_cookies=False).get(
        "/", headers={"Cookie": header})
    assert [(c.name, c.value) for c in seen] == expected
    assert all(c.domain is None and c.path is None for c in seen)


def test_malformed_cookie_header_over_a_socket_is_never_a_500(served):
    base = served(dispatch_servlet(lambda req: response_jsexpr(len(request_cookies(req)))))
    # (a DEL byte would be a malformed header, which the server answers 400 itself)
    response = requests.get(base + "/", headers={"Cookie": "=; ;;a b=1; ok=1; \"=\""},
                            timeout=5)
    assert (response.status_code, response.json()) == (200, 1)


@pytest.mark.parametrize("kwargs", [
    {"name": "bad name", "value": "v"}, {"name": "n", "value": "a;b"},
    {"name": "n", "value": "a b"}, {"name": "n", "value": "v", "max_age": 0},
    {"name": "n", "value": "v", "domain": "a..b"}, {"name": "n", "value": "v", "path": "/a;b"},
    {"name": "n", "value": "v", "same_site": "sometimes"},
    {"name": "n", "value": "v", "expires": "yesterday"},
])
def test_make_cookie_refuses_what_would_break_the_header(kwargs):
    with pytest.raises(ValueError):
        make_cookie(**kwargs)


def test_expires_as_a_naive_datetime_or_seconds():
    when = datetime.datetime(2030, 1, 2, 3, 4, 5)
    assert "Expires=Wed, 02 Jan 2030 03:04:05 GMT" in make_cookie("a", "b", expires=when) \
        .header_value()
    assert make_cookie("a", "b", expires=0).header_value() \
        == "a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


# --- id cookies ----------------------------------------------------------------------

def whoami(req):
    user = request_id_cookie(req, name="user", key=KEY, shelf_life=3600)
    return response_jsexpr(user)


@pytest.fixture
def app(served):
    return served(dispatch_servlet(whoami))


def ask(base, value):
    return requests.get(base + "/", headers={"Cookie": f"user={value}"}, timeout=5).json()


def test_id_cookie_round_trip(app):
    assert ask(app, make_id_cookie("user", "alice", key=KEY).value) == "alice"
    assert requests.get(app + "/", timeout=5).json() is None  # absent


def test_tampered_id_cookies_are_refused(app):
    value = make_id_cookie("user", "alice", key=KEY).value
    digest, authored, data = value.split("&", 2)
    assert ask(app, f"{digest}&{authored}&mallory") is None       # value changed
    assert ask(app, f"{digest}&{int(authored) + 1}&alice") is None  # time changed
    flipped = ("A" if digest[0] != "A" else "B") + digest[1:]
    assert ask(app, f"{flipped}&{authored}&alice") is None        # digest changed
    assert ask(app, make_id_cookie("user", "alice", key=b"other key").value) is None
    assert ask(app, "alice") is None and ask(app, "&&") is None   # not signed at all


def test_id_cookie_signed_for_another_name_is_refused(app):
    other = make_id_cookie("admin", "alice", key=KEY).value
    assert ask(app, other) is None


def test_expired_id_cookie_is_refused(app, monkeypatch):
    monkeypatch.setattr(id_cookie_module, "_now", lambda: 1_000_000_000)
    old = make_id_cookie("user", "alice", key=KEY).value
    monkeypatch.undo()
    assert ask(app, old) is None  # shelf_life=3600


def test_id_cookie_is_same_site_lax_by_default_over_a_socket(served):
    # Not Racket's default (its make-id-cookie has no SameSite): a cross-site form post
    # does not carry the login.
    def login(req):
        return response_empty(cookies=[make_id_cookie("user", "alice", key=KEY, path="/")])

    base = served(dispatch_servlet(login))
    header = requests.get(base + "/", timeout=5).headers["Set-Cookie"]
    assert header.startswith("user=") and header.endswith("; Path=/; HttpOnly; SameSite=Lax")


@pytest.mark.parametrize("kwargs, tail", [
    ({"same_site": "Strict"}, "; HttpOnly; SameSite=Strict"),
    ({"same_site": None}, "; HttpOnly"),
    ({"same_site": "none", "secure": True}, "; Secure; HttpOnly; SameSite=None"),
    ({"secure": True}, "; Secure; HttpOnly; SameSite=Lax"),
])
def test_id_cookie_same_site_and_secure(kwargs, tail):
    assert make_id_cookie("user", "alice", key=KEY, **kwargs).header_value().endswith(tail)


def test_id_cookie_same_site_none_needs_secure():
    with pytest.raises(ValueError, match="secure=True"):
        make_id_cookie("user", "alice", key=KEY, same_site="None")


def test_id_cookie_defaults_to_http_only_and_logout_expires_it():
    assert make_id_cookie("user", "alice", key=KEY).http_only
    assert logout_id_cookie("user", path="/").header_value() \
        == "user=; Expires=Thu, 01 Jan 2015 00:00:00 GMT; Path=/"


# --- basic auth ------------------------------------------------------------------------

def members(req):
    credentials = request_to_basic_credentials(req)
    if credentials is None:
        return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                             [make_basic_auth_header("Members")], [b"who are you?"])
    user, password = credentials
    return response_jsexpr([user.decode(), password.decode()])


def test_basic_auth(served):
    base = served(dispatch_servlet(members))
    response = requests.get(base + "/", timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Members"'
    assert requests.get(base + "/", auth=("ann", "pa:ss"), timeout=5).json() == ["ann", "pa:ss"]


@pytest.mark.parametrize("header", [
    "Bearer abc", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()])
def test_bad_basic_credentials_are_none(header):
    response = Client(dispatch_servlet(members)).get("/", headers={"Authorization": header})
    assert response.status_code == 401


def test_realm_with_a_quote_is_refused():
    with pytest.raises(ValueError):
        make_basic_auth_header('a"b')



@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=255), max_size=60))
def test_any_cookie_header_parses_without_error(header):
    for cookie in parse_cookie_header(header):
        assert cookie.name and ";" not in cookie.value and "," not in cookie.value


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9!#$%&'()*+./:<=>?@\[\]^_`{|}~-]{0,20}", fullmatch=True))
def test_set_cookie_values_read_back(name, value):
    cookie = make_cookie(name, value)
    assert parse_cookie_header(cookie.header_value()) == [
        ClientCookie(name, value)]
