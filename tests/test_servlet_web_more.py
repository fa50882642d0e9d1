"""send_suspend_url, send_suspend_url_dispatch and servlet_prompt (Racket's
web-server/servlet/web), and the testers of web-server/test beyond Racket's
test-tests.rkt (tests/racket/test_test_tests.py): raw bodies, heads, bindings."""
from __future__ import annotations

import html
import re
from urllib.parse import SplitResult

import pytest
import requests

from dispatch import filter as filter_
from dispatch import sequencer
from dispatch.http.bindings import BindingFile, BindingForm
from servlets import (
    Comment,
    dispatch_servlet,
    make_dispatcher_tester,
    make_servlet_tester,
    response_full,
    response_jsexpr,
    response_xexpr,
)
from servlets.stateful import make
from servlets.web import (
    is_continuation_url,
    send_back,
    send_suspend_url,
    send_suspend_url_dispatch,
    servlet_prompt,
)
from tests.racket.xml_path import se_path

_LINK = re.compile(r'(?:href|action)="([^"]*)"')


def links(text: str) -> list[str]:
    return [html.unescape(u) for u in _LINK.findall(text)]


# -- send/suspend/url, send/suspend/url/dispatch, servlet-prompt --------------------------

def test_send_suspend_url_gives_a_parsed_url(served):
    seen = []

    def start(request):
        def generator(k_url):
            seen.append(k_url)
            return response_xexpr(("a", [("href", k_url.geturl())], "next"))
        answer = send_suspend_url(generator)
        return response_xexpr(("p", answer.args["v"]))

    base = served(make(start))
    link = links(requests.get(base + "/app", timeout=5).text)[0]
    assert isinstance(seen[0], SplitResult) and seen[0].path.startswith("/app;k=")
    assert is_continuation_url(seen[0]) is not None
    assert requests.get(base + link + "?v=ok", timeout=5).text == "<p>ok</p>"


def test_send_suspend_url_dispatch_embeds_parsed_urls(served):
    def start(request):
        def generator(embed_url):
            u = embed_url(lambda r: "chosen")
            assert isinstance(u, SplitResult)
            return response_xexpr(("a", [("href", u.geturl())], "choose"))
        return response_xexpr(("p", send_suspend_url_dispatch(generator)))

    base = served(make(start))
    link = links(requests.get(base + "/", timeout=5).text)[0]
    assert requests.get(base + link, timeout=5).text == "<p>chosen</p>"


def test_servlet_prompt_is_what_send_back_aborts_to(served):
    """Racket's call-with-continuation-prompt with servlet-prompt: catching it stops
    send_back's abort, and the response it carried is there to use."""
    def start(request):
        try:
            send_back(response_xexpr(("p", "inner")))
        except servlet_prompt as sent:
            inner = sent.response
        try:
            send_back(response_xexpr(("p", "sent")))
        except Exception:  # noqa: BLE001 (shows that ordinary handlers let it through)
            return response_xexpr(("p", "caught by except Exception"))
        return inner  # not reached: the second send_back ends the servlet

    base = served(make(start))
    assert requests.get(base + "/", timeout=5).text == "<p>sent</p>"
    assert issubclass(servlet_prompt, BaseException)
    assert not issubclass(servlet_prompt, Exception)


def test_is_continuation_url_takes_strings_and_split_urls():
    assert is_continuation_url("/a;k=" + "i" * 22 + ".7." + "s" * 22) == ("i" * 22, 7, "s" * 22)
    assert is_continuation_url("/a;k=damaged") is None
    with pytest.raises(TypeError, match="is_continuation_url: expected a URL"):
        is_continuation_url(42)


# -- make-dispatcher-tester, make-servlet-tester ------------------------------------------

def test_tester_bodies_heads_and_raw():
    tester = make_dispatcher_tester(sequencer.make(
        filter_.make("^/json$", dispatch_servlet(lambda r: response_jsexpr({"a": 1}))),
        filter_.make("^/page$", dispatch_servlet(lambda r: response_xexpr(
            ("html", ("body", [("class", "c")], "a &amp; b", Comment(" note "),
                      ("br",), 233)))))))
    assert tester("/page") == (
        "html", [], ("body", [("class", "c")], "a &amp; b", " note ", ("br", []), "é"))
    head, body = tester("/page", headers=True)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nLast-Modified: REDACTED\r\n" in head
    assert not head.endswith(b"\r\n")
    assert tester("/json", raw=True) == b'{"a":1}'
    with pytest.raises(ValueError, match="not XML.*raw=True"):
        tester("/json")
    # declined by every dispatcher: the server's 404
    head, body = tester("http://test.com/nothing", raw=True, headers=True)
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert body == b"Not Found\n"


def test_tester_bindings_and_targets():
    def echo(request):
        fields = sorted(f"{k}={v}" for k, v in request.values.items(multi=True))
        files = sorted(f"{k}:{f.filename}:{f.read().decode()}"
                       for k, f in request.files.items(multi=True))
        return response_xexpr(("p", request.method, " ", request.host, " ",
                               ",".join(fields + files)))

    tester = make_servlet_tester(echo)
    assert tester() == ("p", [], "GET localhost ")
    assert tester("/x?a=1", [("b", "2"), BindingForm("c", "3")]) == \
        ("p", [], "GET localhost a=1,b=2,c=3")
    assert tester("http://test.com/servlets/x") == ("p", [], "GET test.com ")
    assert tester("/up", [BindingForm("f", "v"), BindingFile("u", "a.txt", [], b"data")]) == \
        ("p", [], "POST localhost f=v,u:a.txt:data")
    with pytest.raises(TypeError, match="a binding is a BindingForm"):
        tester("/", ["a=1"])
    with pytest.raises(TypeError, match="the target is a URL string"):
        tester(b"/")
    with pytest.raises(TypeError, match="make_servlet_tester: start must be a procedure"):
        make_servlet_tester(None)


def test_the_servlet_tester_follows_send_suspend():
    from servlets.web import send_suspend

    def start(request):
        k = send_suspend(lambda k_url: response_full(
            200, None, None, b"text/html", [],
            [f'<a href="{html.escape(k_url)}">k</a>'.encode()]))
        return response_xexpr(("p", k.args["n"]))

    tester = make_servlet_tester(start)
    k_url = se_path(("a", "#href"), tester("/start"))
    assert k_url.startswith("/start;k=")
    assert tester(k_url, [("n", "5")]) == ("p", [], "5")
    assert "expired" in str(tester(k_url, [("n", "6")]))   # once only


def test_tester_stream_closed():
    closed = []

    class Body:
        def __iter__(self):
            yield b"<p>streamed</p>"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return Body()

    tester = make_dispatcher_tester(lambda conn, request: conn.respond(app))
    assert tester("/") == ("p", [], "streamed") and closed == [True]
    assert tester("/", raw=True) == b"<p>streamed</p>"
