"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-passwords-test.rkt,
ported.

The password file is what Racket's test writes, ``(write ''(...))``: one quoted list.
Racket's authentication responder ``(lambda (u h) (esc h))`` escapes with the challenge
header; here it raises :class:`Escape` carrying it.
"""
from __future__ import annotations

import base64
import io
import logging
import os
import sys

import pytest
import requests

from dispatch import lift, passwords, sequencer
from dispatch.connection import Connection
from dispatch.core import DispatcherNotApplicable
from servlets import response_full
from servlets.request import Request

# (write ''(("secret stuff" "/secret(/.*)?" (bubba "bbq") (|Billy| "BoB")
#            (aladdin "open sesame"))))
TEST_PASSWORDS = ("'((\"secret stuff\" \"/secret(/.*)?\" (bubba \"bbq\") (Billy \"BoB\") "
                  "(aladdin \"open sesame\")))")


@pytest.fixture
def test_passwords(tmp_path):
    path = tmp_path / "mztmp-passwords"
    path.write_text(TEST_PASSWORDS)
    return path


class Escape(Exception):
    def __init__(self, value):
        super().__init__(value)
        self.value = value


def compat(password_file, authentication_responder):
    update_password_cache, password_check = passwords.password_file_to_authorized(
        password_file)
    return update_password_cache, passwords.make(
        passwords.make_basic_denied_path(password_check),
        authentication_responder=authentication_responder)


def runt(test_passwords, applies: bool, authorized: bool):
    def escape(u, h):
        raise Escape(h)

    _, d = compat(test_passwords, escape)
    environ = {"REQUEST_METHOD": "GET", "QUERY_STRING": "",
               "PATH_INFO": "/secret/something" if applies else "/not-secret",
               "HTTP_HOST": "host", "SERVER_NAME": "host", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "client",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    if authorized:
        environ["HTTP_AUTHORIZATION"] = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    try:
        return d(Connection(environ, None), Request(environ))
    except Escape as escaped:
        return escaped.value


# -- test-suite "Default configuration" ----------------------------------------------------

def test_distribution_file_parses(tmp_path):
    # "Distribution file parses": default-web-root/passwords holds '()
    default_passwords = tmp_path / "passwords"
    default_passwords.write_text("'()\n")
    assert passwords.read_realms(default_passwords) == []


def test_false_not_allowed_as_password_file():
    # "False not allowed as password-file"
    with pytest.raises(TypeError):
        passwords.password_file_to_authorized(False)


def test_authorized(test_passwords):
    # "authorized": Aladdin:open sesame, lowercased to aladdin, passes
    with pytest.raises(DispatcherNotApplicable):
        runt(test_passwords, True, True)


def test_not_authorized(test_passwords):
    # "not authorized"
    assert runt(test_passwords, True, False) == \
        ("WWW-Authenticate", 'Basic realm="secret stuff"')


def test_does_not_apply(test_passwords):
    # "does not apply"
    with pytest.raises(DispatcherNotApplicable):
        runt(test_passwords, False, False)


def test_does_not_apply_authd(test_passwords):
    # "does not apply (authd)"
    with pytest.raises(DispatcherNotApplicable):
        runt(test_passwords, False, True)


# -- beyond the Racket file (its "XXX test refresh cache" included) ------------------------

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def protected(path):
    _, d = compat(path, passwords._unauthorized)
    return sequencer.make(d, lift.make(
        lambda r: response_full(200, None, None, "text/plain", [], [b"inside"])))


def test_over_a_socket_with_racket_file_forms(served, tmp_path):
    path = tmp_path / "passwords"
    path.write_text("; Racket's format, with a comment\n"
                    "(quote ((\"bytes\" #rx#\"^/b(/|$)\" (|Mixed| \"pw\"))\n"
                    "        (\"px\" #px\"^/p\\\\d+$\" (user \"pw\"))))\n")
    base = served(protected(path))
    assert requests.get(base + "/b/x", timeout=5).status_code == 401
    assert requests.get(base + "/b/x", auth=("MIXED", "pw"), timeout=5).text == "inside"
    assert requests.get(base + "/p12", timeout=5).status_code == 401
    assert requests.get(base + "/p12", auth=("User", "pw"), timeout=5).status_code == 200
    assert requests.get(base + "/pub", timeout=5).status_code == 200
    assert requests.get(base + "/p12", auth=("user", "PW"), timeout=5).status_code == 401


def test_the_regex_is_searched_as_racket_does(served, test_passwords):
    base = served(protected(test_passwords))
    assert requests.get(base + "/files/secret", timeout=5).status_code == 401
    assert requests.get(base + "/not-secret", timeout=5).status_code == 200


def test_the_cache_is_refreshed_when_the_file_changes(test_passwords, caplog):
    refresh, authorized = passwords.password_file_to_authorized(test_passwords)
    assert authorized("/secret", "bubba", "bbq") is None
    test_passwords.write_text("'((\"secret stuff\" \"/secret\" (bubba \"new\")))")
    os.utime(test_passwords, ns=(1, 1))  # a changed mtime, whatever the clock resolution
    assert authorized("/secret", "bubba", "bbq") == "secret stuff"
    assert authorized("/secret", "bubba", "new") is None
    test_passwords.write_text("'((broken")
    os.utime(test_passwords, ns=(2, 2))
    with caplog.at_level(logging.ERROR, logger="dispatch"):
        assert authorized("/secret", "bubba", "new") is None  # the old one stays
    assert "not reloaded" in caplog.text
    with pytest.raises(ValueError):
        refresh()  # asked for explicitly, the error is the caller's


@pytest.mark.parametrize("text", [
    "'((\"realm\" \"/x\" (user)))", "'((realm \"/x\" (user \"pw\")))",
    "'((\"realm\" \"/x\" (user pw)))", "'((\"realm\" \"/x\"", "'(a) '(b)", "'",
    "'((\"realm\" \"(unclosed\" (user \"pw\")))",
])
def test_a_bad_password_file_is_a_clear_error(tmp_path, text):
    path = tmp_path / "bad"
    path.write_text(text)
    with pytest.raises(ValueError):
        passwords.password_file_to_authorized(path)
    with pytest.raises(FileNotFoundError):
        passwords.password_file_to_authorized(tmp_path / "missing")
