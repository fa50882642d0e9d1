"""servlets.page (Racket's web-server/page): Racket has no test file for it beyond the
add-page.rkt servlet (tests/racket/test_servlet_examples.py); these follow page.scrbl's
examples and its description of get-binding's formats, over real sockets."""
from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
import requests
from werkzeug.test import EnvironBuilder

from dispatch.http.bindings import BindingFile, BindingForm
from dispatch.http.request import Request
from servlets import (
    current_request,
    define_page,
    embed_url,
    get_binding,
    get_bindings,
    lambda_page,
    page,
    response_xexpr,
    set_any_to_response,
)
from servlets import servlet_structs as structs
from servlets.stateful import make

_LINK = re.compile(r'(?:href|action)="([^"]*)"')


def links(text: str) -> list[str]:
    return [html.unescape(u) for u in _LINK.findall(text)]


def request_for(path="/", **builder) -> Request:
    return Request(EnvironBuilder(path=path, **builder).get_environ())


# -- get-binding, get-bindings -----------------------------------------------------------

def test_get_binding_formats():
    req = request_for("/", method="POST", query_string="n=1&n=2&name=caf%C3%A9",
                      data={"up": (BytesIO(b"file content"), "a.txt"), "field": "f"})
    assert get_binding("n", req) == "1"
    assert get_binding(b"n", req) == "1"                  # a byte string id
    assert get_binding("name", req) == "café"
    assert get_binding("name", req, format="bytes") == "café".encode()
    assert get_binding("N", req) is None                  # case-sensitive
    assert get_binding("missing", req) is None
    assert get_binding("up", req) is None                 # a file is no string
    assert get_binding("up", req, format="file") == b"file content"
    assert get_binding("n", req, format="file") is None   # a field is no file
    assert isinstance(get_binding("up", req, format="binding"), BindingFile)
    assert get_binding("field", req, format="binding") == BindingForm("field", "f")


def test_get_bindings_keeps_what_the_format_fits():
    req = request_for("/", method="POST", query_string="x=1&x=2&x=",
                      data={"x": (BytesIO(b"up"), "x.txt")})
    assert get_bindings("x", req) == ["1", "2", ""]       # the file left out
    assert get_bindings("x", req, format="file") == [b"up"]
    assert [type(b).__name__ for b in get_bindings("x", req, format="binding")] == \
        ["BindingForm", "BindingForm", "BindingForm", "BindingFile"]
    assert get_bindings("none", req) == []


def test_get_binding_errors():
    req = request_for("/?a=1")
    with pytest.raises(ValueError, match="format must be one of string, bytes, file"):
        get_binding("a", req, format="text")
    with pytest.raises(TypeError, match="get_bindings: a binding id is a str or bytes"):
        get_bindings(1, req)
    with pytest.raises(RuntimeError, match="get_binding: no request given and none is current"):
        get_binding("a")
    with pytest.raises(RuntimeError, match="embed_url: used outside page"):
        embed_url(lambda request: None)
    with pytest.raises(TypeError, match="page: body must be a procedure"):
        page(response_xexpr(("p",)))
    with pytest.raises(TypeError, match="define_page: expected a procedure"):
        define_page("start")
    assert current_request.get() is None


# -- page, embed/url, lambda/page, define/page -------------------------------------------

@pytest.fixture
def strings_as_pages():
    before = structs._converter
    set_any_to_response(lambda v: response_xexpr(("p", v)) if isinstance(v, str) else None)
    yield
    structs._converter = before


def test_the_documentations_click_me(served, strings_as_pages):
    """page.scrbl's example; the handler's "You clicked!" comes back from ``page`` and
    start returns it, which the converter makes a page of."""
    def start(request):
        return page(lambda: response_xexpr(
            ("html", ("body", ("a", [("href", embed_url(lambda req: "You clicked!"))],
                               "Click me")))))

    base = served(make(start))
    first = requests.get(base + "/", timeout=5)
    assert "Click me" in first.text
    assert requests.get(base + links(first.text)[0], timeout=5).text == "<p>You clicked!</p>"


def test_define_page_binds_the_current_request(served):
    @define_page
    def start(request):
        assert current_request.get() is request
        return response_xexpr(
            ("form", [("action", embed_url(lambda_page(greet)))], ("input", [("name", "who")])))

    def greet(request):
        # a lambda/page handler: its own request is current, get_binding finds it
        assert current_request.get() is request
        return response_xexpr(("p", f"Hello, {get_binding('who')}!",
                               ("a", [("href", embed_url(lambda r: response_xexpr(
                                   ("p", str(current_request.get() is request)))))], "again")))

    base = served(make(start))
    action = links(requests.get(base + "/", timeout=5).text)[0]
    hello = requests.get(base + action, params={"who": "Ada"}, timeout=5).text
    assert hello.startswith("<p>Hello, Ada!")
    # a plain handler embedded in greet's page: the current request is still greet's
    assert requests.get(base + links(hello)[0], timeout=5).text == "<p>True</p>"


def test_define_page_passes_more_arguments(served):
    @define_page
    def show(request, n, label="n"):
        return response_xexpr(("p", f"{label}={n}",
                               ("a", [("href", embed_url(lambda r: show(r, n + 1)))], "+")))

    base = served(make(lambda request: show(request, 1, label="count")))
    first = requests.get(base + "/", timeout=5).text
    assert first.startswith("<p>count=1")
    assert requests.get(base + links(first)[0], timeout=5).text.startswith("<p>n=2")


def test_a_page_returns_the_handlers_value(served):
    def start(request):
        choice = page(lambda: response_xexpr(
            ("div", ("a", [("href", embed_url(lambda r: "left"))], "L"),
             ("a", [("href", embed_url(lambda r: "right"))], "R"))))
        return response_xexpr(("p", f"you chose {choice}"))

    base = served(make(start))
    _, right = links(requests.get(base + "/", timeout=5).text)
    assert requests.get(base + right, timeout=5).text == "<p>you chose right</p>"
