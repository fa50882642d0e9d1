"""Racket's ``tests/web-server/http/digest-auth-test.rkt`` (its RFC 2617 and Safari
vectors), RFC 7616's MD5 and SHA-256 examples, and real clients over 127.0.0.1: Python's
``urllib.request.HTTPDigestAuthHandler``, ``requests.auth.HTTPDigestAuth`` and a
headless Chromium, against Racket's ``digest.rkt`` example servlet and a stricter one.

One expectation differs from Racket's, on purpose: the challenge separates ``nonce`` and
``opaque`` with a comma (RFC 7616), where Racket's test expects none.
"""
from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request

import pytest
import requests
from requests.auth import HTTPDigestAuth
from werkzeug.test import EnvironBuilder

import dispatch.http.digest_auth as digest_auth
from dispatch.http.request import Request, header_field, header_value, make_header
from servlets import (
    TEXT_HTML_MIME_TYPE,
    dispatch_servlet,
    make_check_digest_credentials,
    make_digest_auth_header,
    password_to_digest_ha1,
    request_to_digest_credentials,
    response_full,
    response_xexpr,
)

RFC_EXAMPLE = """Digest username="Mufasa",
                      realm="testrealm@host.com",
                      nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                      uri="/dir/index.html",
                      qop=auth,
                      nc=00000001,
                      cnonce="0a4f113b",
                      response="6629fae49393a05397450978507c4ef1",
                      opaque="5ccc069c403ebaf9f0171e9517f40e41\""""
RFC_EXAMPLE_ALIST = [
    ("username", "Mufasa"),
    ("realm", "testrealm@host.com"),
    ("nonce", "dcd98b7102dd2f0e8b11d0f600bfb0c093"),
    ("uri", "/dir/index.html"),
    ("qop", "auth"),
    ("nc", "00000001"),
    ("cnonce", "0a4f113b"),
    ("response", "6629fae49393a05397450978507c4ef1"),
    ("opaque", "5ccc069c403ebaf9f0171e9517f40e41"),
]
SAFARI_EXAMPLE = (
    'Digest username="username", realm="Digest Auth Test: g10971", '
    'nonce="MTIzMzc2ODU3NCA4MjA2MTAyMDNhYzYyYTRiMTdmOTY4NzVjOWI1MzEwOQ==", '
    'uri="/servlets/standalone.ss", response="c3e45e8499e37bf0872930b35fcae291", '
    'cnonce="94db38ffd6e360db658e0dbcbf5e43b9", nc=00000001, qop="auth"')
SAFARI_EXAMPLE_ALIST = [
    ("username", "username"),
    ("realm", "Digest Auth Test: g10971"),
    ("nonce", "MTIzMzc2ODU3NCA4MjA2MTAyMDNhYzYyYTRiMTdmOTY4NzVjOWI1MzEwOQ=="),
    ("uri", "/servlets/standalone.ss"),
    ("response", "c3e45e8499e37bf0872930b35fcae291"),
    ("cnonce", "94db38ffd6e360db658e0dbcbf5e43b9"),
    ("nc", "00000001"),
    ("qop", "auth"),
]


def make_req(headers: list) -> Request:
    """Racket's ``make-req``: a GET of http://test.com/foo with these headers (set in
    the environ directly: werkzeug's builder refuses the RFC example's line breaks)."""
    environ = EnvironBuilder(base_url="http://test.com", path="/foo").get_environ()
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return Request(environ)


# --- make-digest-auth-header ------------------------------------------------------------

def test_header_field():
    assert header_field(make_digest_auth_header("realm", "secret-key", "opaque")) \
        == "WWW-Authenticate"


def test_header_value():
    value = header_value(make_digest_auth_header("realm", "secret-key", "opaque"))
    # Racket's regexp, with RFC 7616's comma between nonce and opaque
    assert re.fullmatch(r'Digest realm="realm", qop="auth", nonce=".+", opaque="opaque"',
                        value)


def test_header_algorithm_and_bad_arguments():
    value = header_value(make_digest_auth_header("r", "k", "o", algorithm="sha-256"))
    assert value.endswith(", algorithm=SHA-256")
    with pytest.raises(ValueError, match="realm"):
        make_digest_auth_header('a "quoted" realm', "k", "o")
    with pytest.raises(TypeError, match="opaque"):
        make_digest_auth_header("r", "k", None)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        make_digest_auth_header("r", "k", "o", algorithm="SHA-1")


# --- request->digest-credentials --------------------------------------------------------

def test_credentials_error():
    assert request_to_digest_credentials(
        make_req([make_header(b"Authorization", b'Basic bar="foo"')])) is None


def test_credentials_rfc_example():
    assert request_to_digest_credentials(
        make_req([make_header("Authorization", RFC_EXAMPLE)])) == RFC_EXAMPLE_ALIST


def test_credentials_safari_example():
    assert request_to_digest_credentials(
        make_req([make_header("Authorization", SAFARI_EXAMPLE)])) == SAFARI_EXAMPLE_ALIST


@pytest.mark.parametrize("value", [
    "Digest", "Digest ,", 'Digest username="a" realm="b"', 'Digest username="unterminated',
    'Digest username=', "Digestive username=\"a\"",
])
def test_credentials_that_do_not_parse(value):
    assert request_to_digest_credentials(make_req([("Authorization", value)])) is None


def test_credentials_without_the_header():
    assert request_to_digest_credentials(make_req([])) is None


def test_credentials_are_read_as_rfc_7235_allows():
    value = r'digest UserName="a\"b", algorithm="MD5", , qop=auth'
    assert request_to_digest_credentials(make_req([("Authorization", value)])) == [
        ("username", 'a"b'), ("algorithm", "MD5"), ("qop", "auth")]


# --- password->digest-HA1 ---------------------------------------------------------------

def test_ha1_simple():
    assert password_to_digest_ha1(lambda u, r: u + r)("username", "realm") \
        == "cdc6d76271d05ba4d7afeecfcb451c21"


def test_ha1_rfc_example():
    assert password_to_digest_ha1(lambda u, r: "Circle Of Life")(
        "Mufasa", "testrealm@host.com") == "939e7578ed9e3c518a452acee763bce9"


def test_ha1_safari_example():
    assert password_to_digest_ha1(lambda u, r: "password")(
        "username", "Digest Auth Test: g10971") == "663c0814b20c2cdabe8baa309c6d7b82"


# --- make-check-digest-credentials ------------------------------------------------------

def test_check_rfc_incorrect():
    check = make_check_digest_credentials(lambda u, r: b"939e7578ed9e3c518a452acee76321e9")
    assert check("GET", RFC_EXAMPLE_ALIST) is False


def test_check_error():
    check = make_check_digest_credentials(lambda u, r: b"939e7578ed9e3c518a452acee76321e9")
    with pytest.raises(ValueError, match="username"):
        check("GET", [pair for pair in RFC_EXAMPLE_ALIST if pair[0] != "username"])


def test_check_rfc_example():
    check = make_check_digest_credentials(lambda u, r: b"939e7578ed9e3c518a452acee763bce9")
    assert check("GET", RFC_EXAMPLE_ALIST) is True


def test_check_safari_example():
    check = make_check_digest_credentials(lambda u, r: b"663c0814b20c2cdabe8baa309c6d7b82")
    assert check("GET", SAFARI_EXAMPLE_ALIST) is True


def test_check_with_another_method_is_wrong():
    check = make_check_digest_credentials(lambda u, r: "939e7578ed9e3c518a452acee763bce9")
    assert check("POST", RFC_EXAMPLE_ALIST) is False
    assert check(b"GET", dict(RFC_EXAMPLE_ALIST)) is True  # a dict and bytes do too


# RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256
RFC7616 = [
    ("username", "Mufasa"), ("realm", "http-auth@example.org"), ("uri", "/dir/index.html"),
    ("nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"), ("nc", "00000001"),
    ("cnonce", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"), ("qop", "auth"),
    ("opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
]


def test_rfc_7616_md5_and_sha_256_examples():
    def password(u, r):
        return "Circle of Life"

    md5 = make_check_digest_credentials(password_to_digest_ha1(password))
    sha = make_check_digest_credentials(password_to_digest_ha1(password, "SHA-256"),
                                        algorithm="SHA-256")
    md5_creds = [*RFC7616, ("algorithm", "MD5"),
                 ("response", "8ca523f5e9506fed4657c9700eebdbec")]
    sha_creds = [*RFC7616, ("algorithm", "SHA-256"),
                 ("response", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")]
    assert md5("GET", md5_creds) and sha("GET", sha_creds)
    # each check refuses the other's algorithm
    assert not md5("GET", sha_creds) and not sha("GET", md5_creds)


def test_unknown_users_and_auth_int_are_wrong():
    assert make_check_digest_credentials(lambda u, r: None)("GET", RFC_EXAMPLE_ALIST) is False
    check = make_check_digest_credentials(lambda u, r: "939e7578ed9e3c518a452acee763bce9")
    auth_int = [(k, "auth-int" if k == "qop" else v) for k, v in RFC_EXAMPLE_ALIST]
    assert check("GET", auth_int) is False


def answer_for(ha1: str, method: str, creds: list, algorithm: str = "MD5") -> list:
    """``creds`` with the response a client knowing ``ha1`` computes."""
    hash_ = digest_auth._hasher(algorithm)
    f = dict(creds)
    ha2 = hash_(f"{method}:{f['uri']}")
    response = hash_(f"{ha1}:{f['nonce']}:{f['nc']}:{f['cnonce']}:{f['qop']}:{ha2}")
    return [*creds, ("response", response)]


def nonce_of(header) -> str:
    return re.search(r'nonce="([^"]+)"', header_value(header)).group(1)


def test_private_key_refuses_forged_and_old_nonces(monkeypatch):
    ha1 = password_to_digest_ha1(lambda u, r: "pass")("user", "r")
    check = make_check_digest_credentials(lambda u, r: ha1, private_key="k",
                                          nonce_lifetime=300)
    base = [("username", "user"), ("realm", "r"), ("uri", "/"), ("nc", "00000001"),
            ("cnonce", "c"), ("qop", "auth")]
    now = 1_700_000_000
    monkeypatch.setattr(digest_auth.time, "time", lambda: now)
    good = nonce_of(make_digest_auth_header("r", "k", "o"))
    assert check("GET", answer_for(ha1, "GET", [*base, ("nonce", good)]))
    other_key = nonce_of(make_digest_auth_header("r", "another key", "o"))
    assert not check("GET", answer_for(ha1, "GET", [*base, ("nonce", other_key)]))
    forged = base64.b64encode(f"{now} {'0' * 64}".encode()).decode()
    assert not check("GET", answer_for(ha1, "GET", [*base, ("nonce", forged)]))
    assert not check("GET", answer_for(ha1, "GET", [*base, ("nonce", "not base64!")]))
    now += 301  # the same nonce, later than its lifetime
    assert not check("GET", answer_for(ha1, "GET", [*base, ("nonce", good)]))
    # without private_key, as Racket, the nonce is not checked
    assert make_check_digest_credentials(lambda u, r: ha1)(
        "GET", answer_for(ha1, "GET", [*base, ("nonce", good)]))


def test_a_replayed_request_is_refused(monkeypatch):
    """RFC 7616 3.4: with private_key and nonce_lifetime, the same nonce and nc twice is a
    replay; a higher nc on the same nonce is the client's next request."""
    ha1 = password_to_digest_ha1(lambda u, r: "pass")("user", "r")
    check = make_check_digest_credentials(lambda u, r: ha1, private_key="k",
                                          nonce_lifetime=300)
    now = 1_700_000_000
    monkeypatch.setattr(digest_auth.time, "time", lambda: now)
    nonce = nonce_of(make_digest_auth_header("r", "k", "o"))

    def answer(nc: str, response: str = "") -> list:
        creds = answer_for(ha1, "GET", [("username", "user"), ("realm", "r"), ("uri", "/"),
                                        ("nonce", nonce), ("nc", nc), ("cnonce", "c"),
                                        ("qop", "auth")])
        return [(k, response or v) if k == "response" else (k, v) for k, v in creds]

    assert not check("GET", answer("00000001", response="0" * 32))  # a wrong answer...
    assert check("GET", answer("00000001"))  # ...uses up nothing
    assert not check("GET", answer("00000001"))  # the same request again: a replay
    assert check("GET", answer("00000003")) and check("GET", answer("00000002"))
    assert not check("GET", answer("00000003"))
    # Without nonce_lifetime (or private_key), nothing is tracked, as in Racket.
    untracked = make_check_digest_credentials(lambda u, r: ha1, private_key="k")
    assert untracked("GET", answer("00000001")) and untracked("GET", answer("00000001"))
    # What is remembered goes with the nonces' lifetime.
    replays = digest_auth._Replays(300)
    for n in range(1024):
        assert replays.first_use(f"n{n}", now, "00000001")
    now += 301
    assert replays.first_use("new", now, "00000001") and list(replays.seen) == ["new"]
    assert not replays.first_use("new", now, "00000001")


def test_bad_arguments():
    with pytest.raises(TypeError, match="lookup_ha1"):
        make_check_digest_credentials("939e75")
    with pytest.raises(TypeError, match="lookup_password"):
        password_to_digest_ha1("pass")
    with pytest.raises(ValueError, match="nonce_lifetime"):
        make_check_digest_credentials(lambda u, r: "", nonce_lifetime=-1)
    with pytest.raises(TypeError, match="expected a request"):
        request_to_digest_credentials("Digest a=b")


# --- over HTTP ----------------------------------------------------------------------------

PRIVATE_KEY, OPAQUE = "private-key", "opaque"


def racket_example(req):
    """Racket's default-web-root/htdocs/servlets/examples/digest.rkt."""
    alist = request_to_digest_credentials(req)
    if alist is None:
        return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                             [make_digest_auth_header("Digest Auth Test: g1", PRIVATE_KEY,
                                                      OPAQUE)], [b""])
    check = make_check_digest_credentials(password_to_digest_ha1(lambda u, r: "pass"))
    return response_xexpr(("html", ("head", ("title", "Digest Auth Test")),
                           ("body", ("h1", "Pass!" if check(req.method, alist) else "No Pass!"),
                            ("pre", repr(alist)))))


def protected(algorithm: str = "MD5"):
    """A servlet that answers 401 (with a fresh challenge) until the credentials check,
    nonce included."""
    ha1 = password_to_digest_ha1(lambda u, r: "pass" if u == "user" else "", algorithm)
    check = make_check_digest_credentials(ha1, algorithm=algorithm, private_key=PRIVATE_KEY,
                                          nonce_lifetime=60)

    def start(req):
        alist = request_to_digest_credentials(req)
        if alist is None or not check(req.method, alist):
            challenge = make_digest_auth_header("members", PRIVATE_KEY, OPAQUE,
                                                algorithm=algorithm)
            return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                                 [challenge], [b"<p>who are you?</p>"])
        return response_xexpr(("p", f"welcome {dict(alist)['username']}, {req.method} "
                                    f"{req.full_path.rstrip('?')}"))

    return start


def urllib_opener(base: str, user: str, password: str):
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, base, user, password)
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))


def test_racket_example_with_urllib(served):
    base = served(dispatch_servlet(racket_example))
    assert requests.get(base + "/", timeout=5).status_code == 401
    with urllib_opener(base, "username", "pass").open(base + "/servlets/x", timeout=5) as r:
        body = r.read().decode()
    assert "<h1>Pass!</h1>" in body and "/servlets/x" in body
    with urllib_opener(base, "username", "wrong").open(base + "/", timeout=5) as r:
        assert "<h1>No Pass!</h1>" in r.read().decode()


def test_urllib_get_and_post(served):
    base = served(dispatch_servlet(protected()))
    opener = urllib_opener(base, "user", "pass")
    with opener.open(base + "/a/b?x=1", timeout=5) as r:
        assert r.read().decode() == "<p>welcome user, GET /a/b?x=1</p>"
    with opener.open(base + "/form", data=b"x=2", timeout=5) as r:
        assert r.read().decode() == "<p>welcome user, POST /form</p>"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib_opener(base, "user", "wrong").open(base + "/", timeout=5)
    assert refused.value.code == 401


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_requests_digest_auth(served, algorithm):
    base = served(dispatch_servlet(protected(algorithm)))
    with requests.Session() as session:
        session.auth = HTTPDigestAuth("user", "pass")
        first = session.get(base + "/one", timeout=5)
        assert (first.status_code, first.text) == (200, "<p>welcome user, GET /one</p>")
        assert [r.status_code for r in first.history] == [401]
        # the next request reuses the nonce with a higher nc, and needs no 401 first
        second = session.post(base + "/two?q=a%20b", data={"k": "v"}, timeout=5)
        assert second.text == "<p>welcome user, POST /two?q=a%20b</p>" and not second.history
    wrong = requests.get(base + "/one", auth=HTTPDigestAuth("user", "nope"), timeout=5)
    assert wrong.status_code == 401 and "who are you?" in wrong.text


def test_a_foreign_nonce_is_refused_over_http(served):
    base = served(dispatch_servlet(protected()))
    ha1 = password_to_digest_ha1(lambda u, r: "pass")("user", "members")
    creds = answer_for(ha1, "GET", [("username", "user"), ("realm", "members"), ("uri", "/"),
                                    ("nonce", "bm90IG91cnM="), ("nc", "00000001"),
                                    ("cnonce", "c"), ("qop", "auth")])
    header = "Digest " + ", ".join(f'{k}="{v}"' for k, v in creds)
    assert requests.get(base + "/", headers={"Authorization": header},
                        timeout=5).status_code == 401


def test_chromium_answers_the_challenge(served):
    from tests.support import chromium_or_skip, quit_chromium

    base = served(dispatch_servlet(protected()))
    driver = chromium_or_skip()
    try:
        # credentials in the URL answer the challenge without a prompt
        driver.get(base.replace("http://", "http://user:pass@") + "/page")
        assert "welcome user, GET /page" in driver.page_source
    finally:
        quit_chromium(driver)
