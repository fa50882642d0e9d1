"""dispatch.responders (Racket's ``web-server/configuration/responders``), which Racket's
suite does not test: each responder as its documentation describes it, with the pages
of Racket's ``default-web-root/conf``, over real sockets where a dispatcher uses one."""
from __future__ import annotations

import time

import pytest
import requests

import dispatch.lift as lift
import dispatch.passwords as passwords
from dispatch.http.basic_auth import make_basic_auth_header
from dispatch.responders import (
    file_response,
    gen_authentication_responder,
    gen_collect_garbage_responder,
    gen_file_not_found_responder,
    gen_passwords_refreshed,
    gen_protocol_responder,
    gen_servlet_not_found,
    gen_servlet_responder,
    gen_servlets_refreshed,
    servlet_error_responder,
    servlet_loading_responder,
)
from servlets import make_header, response_code, response_message

PAGES = {  # Racket's default-web-root/conf, the parts that tell them apart
    "not-found.html": "<p>The file you were looking for was not found on this server.</p>",
    "servlet-error.html": "<p>The servlet terminated abnormally.</p>",
    "forbidden.html": "<p>The server could not verify that you have permissions.</p>",
    "protocol-error.html": "<p>The browser sent a malformed request.</p>",
    "servlet-refresh.html": "<p>Fresh copies of Servlets will now be (re)loaded.</p>",
    "passwords-refresh.html": "<p>The Web server is now using the new password file.</p>",
    "collect-garbage.html": "<p>The garbage collection routine has run.</p>",
}


@pytest.fixture
def conf(tmp_path):
    for name, text in PAGES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def body(response) -> str:
    return b"".join(response.iter_encoded()).decode()


def test_file_response(conf):
    response = file_response(200, b"Okay", conf / "not-found.html",
                             make_header("X-One", "1"), ("X-Two", "2"))
    assert (response_code(response), response_message(response)) == (200, "Okay")
    assert body(response) == PAGES["not-found.html"]
    assert response.mime == "text/html; charset=utf-8"
    assert abs(response.seconds - time.time()) < 5  # current-seconds
    assert (response.headers["X-One"], response.headers["X-Two"]) == ("1", "2")


@pytest.mark.parametrize("gen, page, args, code, message", [
    (gen_servlet_not_found, "not-found.html", ("http://x/s.py",), 404, "Servlet not found"),
    (gen_servlet_responder, "servlet-error.html", ("http://x/s.py", ValueError("boom")),
     500, "Servlet error"),
    (gen_servlets_refreshed, "servlet-refresh.html", (), 200, "Servlet cache refreshed"),
    (gen_passwords_refreshed, "passwords-refresh.html", (), 200, "Passwords refreshed"),
    (gen_protocol_responder, "protocol-error.html", ("http://x/",), 400, "Malformed Request"),
    (gen_file_not_found_responder, "not-found.html", (object(),), 404, "File not found"),
    (gen_collect_garbage_responder, "collect-garbage.html", (), 200, "Garbage collected"),
])
def test_the_generated_responders(conf, gen, page, args, code, message):
    response = gen(conf / page)(*args)
    assert (response.code, response.message, body(response)) == (code, message, PAGES[page])
    assert "boom" not in body(response)


def test_the_file_is_read_at_each_response(conf):
    missing = gen_file_not_found_responder(conf / "later.html")  # the server starts anyway
    with pytest.raises(FileNotFoundError):
        missing(None)
    (conf / "later.html").write_text("<p>first</p>")
    assert body(missing(None)) == "<p>first</p>"
    (conf / "later.html").write_text("<p>edited</p>")
    assert body(missing(None)) == "<p>edited</p>"


def test_a_path_is_required():
    with pytest.raises(TypeError, match="gen_protocol_responder: file must be a path"):
        gen_protocol_responder(None)
    with pytest.raises(TypeError, match="file_response: file must be a path"):
        file_response(200, "OK", 42)


def test_authentication_responder_answers_the_passwords_dispatcher(served, conf):
    """gen_authentication_responder is what dispatch.passwords.make takes as Racket's
    authentication responder: (url, header) -> 401 with the challenge."""
    def denied(request):
        return None if request.authorization else "members"

    protected = passwords.make(
        denied, authentication_responder=gen_authentication_responder(conf / "forbidden.html"))
    base = served(protected)
    response = requests.get(base + "/private", timeout=5)
    assert (response.status_code, response.reason) == (401, "Authorization Required")
    assert response.headers["WWW-Authenticate"] == make_basic_auth_header("members")[1]
    assert response.text == PAGES["forbidden.html"]


def test_file_not_found_responder_ends_a_chain(served, conf):
    base = served(lift.make(gen_file_not_found_responder(conf / "not-found.html")))
    response = requests.get(base + "/anything", timeout=5)
    assert (response.status_code, response.reason, response.text) == \
        (404, "File not found", PAGES["not-found.html"])


def raise_and_catch():
    def inner():
        raise KeyError("the missing key")

    try:
        inner()
    except KeyError as exc:
        return exc


@pytest.mark.parametrize("responder", [servlet_loading_responder, servlet_error_responder])
def test_the_servlet_error_pages(responder):
    exc = raise_and_catch()
    page = responder("http://x/s.py", exc)
    assert (page.code, page.message) == (500, "Internal Server Error")
    text = body(page)
    assert "<title>Servlet Error</title>" in text and "the missing key" not in text
    shown = body(responder("http://x/s.py", exc, show_exception=True))
    assert "<pre>KeyError: 'the missing key'</pre>" in shown
    # Racket's stack trace: innermost frame first, "name at:\n  line N, in file F"
    assert shown.index("inner at:") < shown.index("raise_and_catch at:")
    assert "test_responders.py" in shown
