"""Port of Racket's ``web-server-test/tests/web-server/http/cookies-test.rkt``.

The id-cookie cases that used a cookie signed by Racket (HMAC-SHA1 over Racket's
serialisation) use one signed here instead (HMAC-SHA256), authored at the same moment
(1489023629) by setting the clock the module reads.
"""
import datetime
import time

import pytest
from werkzeug.test import EnvironBuilder

from dispatch.http import id_cookie as id_cookie_module
from servlets import Request
from servlets.cookies import ClientCookie, cookie_to_header, make_cookie, request_cookies
from servlets.id_cookie import (
    make_id_cookie,
    make_secret_salt_file,
    request_id_cookie,
    valid_id_cookie,
)


def header_value(cookie):
    name, value = cookie_to_header(cookie)
    assert name == "Set-Cookie"
    return value


# --- cookie.rkt: cookie->header and make-cookie --------------------------------------

def test_simple():
    assert cookie_to_header(make_cookie("name", "value")) == ("Set-Cookie", "name=value")


def test_comment_is_ignored():
    assert header_value(make_cookie("name", "value", comment="comment")) == "name=value"


def test_domain():
    assert header_value(make_cookie("name", "value", domain="host.domain")) \
        == "name=value; Domain=host.domain"


def test_max_age():
    assert header_value(make_cookie("name", "value", max_age=24)) == "name=value; Max-Age=24"


def test_path():
    assert header_value(make_cookie("name", "value", path="path")) == "name=value; Path=path"


def test_secure():
    assert header_value(make_cookie("name", "value", secure=True)) == "name=value; Secure"
    assert header_value(make_cookie("name", "value", secure=False)) == "name=value"


# --- cookie-parse.rkt -----------------------------------------------------------------

def reqcs(headers):
    return request_cookies(Request(EnvironBuilder(path="/foo", headers=headers).get_environ()))


def reqc(header):
    return reqcs([("Cookie", header)])


def same_no_order(actual, expected):
    return sorted(actual, key=repr) == sorted(expected, key=repr)


def test_none():
    assert reqcs([]) == []


def test_parse_simple():
    assert same_no_order(reqc('$Version="1"; name="value"'),
                         [ClientCookie("$Version", "1"), ClientCookie("name", "value")])


def test_parse_path_is_a_cookie():  # RFC 6265: $Path has no special meaning
    assert same_no_order(reqc('$Version="1"; name="value"; $Path="/acme"'),
                         [ClientCookie("$Version", "1"), ClientCookie("$Path", "/acme"),
                          ClientCookie("name", "value")])


def test_parse_domain_is_a_cookie():
    assert same_no_order(reqc('$Version="1"; name="value"; $Domain="host.acme"'),
                         [ClientCookie("$Version", "1"), ClientCookie("$Domain", "host.acme"),
                          ClientCookie("name", "value")])


def test_parse_multiple():
    assert same_no_order(reqc('$Version="1"; key1="value1"; key2="value2"'),
                         [ClientCookie("$Version", "1"), ClientCookie("key1", "value1"),
                          ClientCookie("key2", "value2")])


def test_parse_multiple_with_paths_and_domains():
    assert same_no_order(
        reqc('$Version="1"; key1="value1"; $Path="/acme"; key2="value2"; '
             '$Domain="host.acme"'),
        [ClientCookie("$Version", "1"), ClientCookie("$Domain", "host.acme"),
         ClientCookie("$Path", "/acme"), ClientCookie("key1", "value1"),
         ClientCookie("key2", "value2")])


def test_parse_phpbb_pr10689():
    assert same_no_order(
        reqc("style_cookie=null; phpbb3_e1p9b_u=54; phpbb3_e1p9b_k=; "
             "phpbb3_e1p9b_sid=3fa8d7a7b65fbabcbe9b345861dc079a"),
        [ClientCookie("style_cookie", "null"), ClientCookie("phpbb3_e1p9b_u", "54"),
         ClientCookie("phpbb3_e1p9b_k", ""),
         ClientCookie("phpbb3_e1p9b_sid", "3fa8d7a7b65fbabcbe9b345861dc079a")])


def test_parse_google():
    assert same_no_order(
        reqc("teaching-order=course; "
             "__utmz=165257760.1272597702.1.1.utmcsr=(direct)|utmccn=(direct)|utmcmd=(none)"),
        [ClientCookie("teaching-order", "course"),
         ClientCookie("__utmz",
                      "165257760.1272597702.1.1.utmcsr=(direct)|utmccn=(direct)|utmcmd=(none)")])


# --- RFC 6265 modifications ------------------------------------------------------------

DT = datetime.datetime(2017, 3, 9, 0, 42, 26, tzinfo=datetime.timezone.utc)


def test_expires_as_string():
    assert make_cookie("my-cookie", "my-value",
                       expires="Thu, 09 Mar 2017 00:42:26 GMT").expires == DT


def test_extra_arguments_to_make_cookie():
    c = make_cookie("my-cookie", "my-value", comment="This is ignored", domain="example.com",
                    max_age=42, path="/some-path", expires=DT, secure="yes",
                    http_only="yes", extension="ext")
    assert (c.name, c.value, c.expires, c.max_age, c.domain, c.path, c.secure, c.http_only,
            c.extension) == ("my-cookie", "my-value", DT, 42, "example.com", "/some-path",
                             True, True, "ext")
    assert sorted(header_value(c).split("; ")) == sorted([
        "my-cookie=my-value", "Expires=Thu, 09 Mar 2017 00:42:26 GMT", "Max-Age=42",
        "Domain=example.com", "Path=/some-path", "Secure", "HttpOnly", "ext"])


# --- id-cookie.rkt -----------------------------------------------------------------------

def test_make_secret_salt_file_initializes_once(tmp_path):
    path = tmp_path / "salt"
    first = make_secret_salt_file(path)
    assert len(first) == 128
    assert make_secret_salt_file(path) == first


TEST_SECRET_SALT = bytes(range(256))[::-3] + b"U;\xae\x00.\x83Iu\xf63\xf7"
AUTHORED = 1489023629


@pytest.fixture
def at_authoring_time(monkeypatch):
    def set_clock(now):
        monkeypatch.setattr(id_cookie_module, "_now", lambda: now)
    return set_clock


@pytest.fixture
def signed_value(at_authoring_time, monkeypatch):
    """The value Racket's test writes out by hand: "my-signed-value" signed at AUTHORED."""
    at_authoring_time(AUTHORED)
    value = make_id_cookie("my-id-cookie", "my-signed-value", key=TEST_SECRET_SALT).value
    monkeypatch.setattr(id_cookie_module, "_now", time.time)
    return value


def test_reject_forged(signed_value):
    digest, authored, _ = signed_value.split("&", 2)
    forged = ClientCookie("my-id-cookie", f"{digest}&{authored}&forged-value")
    assert valid_id_cookie(forged, name="my-id-cookie", key=TEST_SECRET_SALT) is None


def test_reject_truncated_signature(signed_value):
    digest, rest = signed_value.split("&", 1)
    truncated = ClientCookie("my-id-cookie", f"{digest[:-4]}&{rest}")
    assert valid_id_cookie(truncated, name="my-id-cookie", key=TEST_SECRET_SALT) is None


def test_reject_racket_signature():
    # Racket's signature (HMAC-SHA1) is not ours: refused, not misread.
    racket = ClientCookie("my-id-cookie", "YmFLLOIDULjpLQOu1+cvMBM+m4o&1489023629&my-signed-value")
    assert valid_id_cookie(racket, name="my-id-cookie", key=TEST_SECRET_SALT) is None


@pytest.mark.parametrize("name, value", [("my-id-cookie", b"my-signed-value"),
                                         (b"my-id-cookie", "my-signed-value")])
def test_make_id_cookie_and_valid_id_cookie(name, value):
    c = make_id_cookie(name, value, key=TEST_SECRET_SALT, domain="example.com", max_age=42,
                       path="/some-path", expires=DT, secure="yes", http_only=True,
                       extension="ext")
    assert valid_id_cookie(c, name="my-id-cookie", key=TEST_SECRET_SALT) == "my-signed-value"
    assert valid_id_cookie(c, name=b"my-id-cookie", key=TEST_SECRET_SALT,
                           timeout=time.time()) == "my-signed-value"
    assert valid_id_cookie(c, name="my-id-cookie", key=TEST_SECRET_SALT,
                           timeout=time.time() - 86400) is None


@pytest.fixture
def req(signed_value):
    environ = EnvironBuilder(path="/foo",
                             headers=[("Cookie", f"my-id-cookie={signed_value}")]).get_environ()
    return Request(environ)


def test_request_id_cookie_infinite_timeout_and_shelf_life(req):
    assert request_id_cookie(req, name="my-id-cookie", key=TEST_SECRET_SALT) \
        == "my-signed-value"


@pytest.mark.parametrize("name", ["my-id-cookie", b"my-id-cookie"])
def test_request_id_cookie_finite_timeout(req, name):
    assert request_id_cookie(req, name=name, key=TEST_SECRET_SALT, timeout=time.time()) \
        == "my-signed-value"


def test_request_id_cookie_timeout_rejects_expired(req):
    assert request_id_cookie(req, name="my-id-cookie", key=TEST_SECRET_SALT,
                             timeout=1089023629) is None


def test_long_finite_shelf_life_fresh_cookie():
    c = make_id_cookie("fresh-id-cookie", "test-value", key=b"test-key")
    assert valid_id_cookie(c, name="fresh-id-cookie", key=b"test-key", shelf_life=500) \
        == "test-value"


def test_request_id_cookie_long_finite_shelf_life(req):
    assert request_id_cookie(req, name="my-id-cookie", key=TEST_SECRET_SALT,
                             shelf_life=10 + (time.time() - AUTHORED)) == "my-signed-value"


def test_request_id_cookie_shelf_life_rejects_expired(req):
    assert request_id_cookie(req, name="my-id-cookie", key=TEST_SECRET_SALT,
                             shelf_life=-10) is None

