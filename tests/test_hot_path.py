"""The HTTP hot path's shortcuts answer exactly as the general paths do."""
from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder

from dispatch.http.response import Response, _WerkzeugResponse
from servlets import (
    redirect_to,
    response_empty,
    response_full,
    response_jsexpr,
    response_xexpr,
    xexpr_to_string,
)
from servlets.xexpr import CData, Comment

CASES = {
    "xexpr": lambda: response_xexpr(("p", "hi")),
    "own length and message": lambda: response_full(
        200, "Fine", 1e9, "text/plain", [("X-A", "1"), ("content-length", "2")], [b"ok"]),
    "several chunks": lambda: response_full(404, None, None, "text/plain", {"X-B": "2"},
                                            [b"a", b"bc"]),
    "empty list": lambda: response_full(200, None, None, None, None, []),
    "text chunks": lambda: response_full(500, None, None, "text/plain", None, ["str body"]),
    "content-location": lambda: response_full(200, None, None, "text/plain",
                                              [("Content-Location", "/é")], [b"x"]),
    "redirect": lambda: redirect_to("/x"),
    "204": response_empty,
    "json": lambda: response_jsexpr({"a": 1}),
    "304": lambda: response_full(304, None, None, "text/plain", None, [b"x"]),
    "generator": lambda: response_full(200, None, None, "text/plain", None,
                                       (b"x" for _ in range(2))),
    "bytearray and str chunks": lambda: response_full(
        200, None, None, "text/plain", None, [bytearray(b"ab"), "é", b""]),
    "header added after": lambda: _added(response_full(200, None, None, "text/plain", None,
                                                       [b"xyz"]), "Content-Length", "3"),
    "status changed after": lambda: _status(response_full(200, None, None, None, None,
                                                          [b"x"]), 204),
    "body changed after": lambda: _data(response_full(200, None, None, None, None,
                                                      [b"x"]), b"longer"),
    "location as given": lambda: redirect_to("/é?a b"),
}


def _added(response, name, value):
    response.headers.add(name, value)
    return response


def _status(response, code):
    response.status_code = code
    return response


def _data(response, data):
    response.set_data(data)
    return response


def _answer(call, response: Response, method: str):
    environ = EnvironBuilder(path="/", method=method).get_environ()
    started = []
    body = b"".join(call(response, environ, lambda s, h, e=None: started.append((s, list(h)))))
    return started, body


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("case", CASES)
def test_responses_answer_as_werkzeug_does(case, method):
    fast = _answer(Response.__call__, CASES[case](), method)
    general = _answer(_WerkzeugResponse.__call__, CASES[case](), method)
    assert fast == general


def test_close_callbacks_still_run():
    response = response_full(200, None, None, "text/plain", None, [b"x"])
    closed = []
    response.call_on_close(lambda: closed.append(True))
    result = response(EnvironBuilder().get_environ(), lambda s, h, e=None: None)
    list(result)
    result.close()
    assert closed == [True]


def test_checked_names_stay_checked():
    assert xexpr_to_string(("p", {"class": "a"}, "x")) == '<p class="a">x</p>'
    for _ in range(2):  # once more after the valid names were remembered
        with pytest.raises(ValueError):
            xexpr_to_string(("p", {"on click": "a"}))
        with pytest.raises(ValueError):
            xexpr_to_string(("p q", "x"))


def test_text_subclasses_and_numbers_render_as_before():
    class Text(str):
        pass

    page = ("div", ("script", "a</b"), CData("<b>"), Text("a<b"), 65, ["br"], ("p",))
    assert xexpr_to_string(page) == '<div><script>a<\\/b</script><b>a&lt;b&#65;<br /><p></p></div>'
    with pytest.raises(TypeError):
        xexpr_to_string(("p", True))


def test_subclasses_of_the_node_classes_are_written_as_their_base():
    # the writer is compiled, and mypyc tests isinstance against its own module's classes
    # by exact type: the node classes live in a pure module so that these still match
    class Safe(CData):
        pass

    class Note(Comment):
        pass

    page = ("p", Safe("<b>x</b>"), Note(" n "), CData("<i>"), Comment("c"))
    assert xexpr_to_string(page) == "<p><b>x</b><!-- n --><i><!--c--></p>"
    assert xexpr_to_string(Safe("<hr>")) == "<hr>"
    with pytest.raises(ValueError):
        xexpr_to_string(("p", Note("a --> b")))


def test_constructors_answer_without_werkzeugs_general_path(monkeypatch):
    def general(*args):
        raise AssertionError("werkzeug's get_wsgi_headers ran")

    monkeypatch.setattr(_WerkzeugResponse, "get_wsgi_headers", general)
    for make in (lambda: response_xexpr(("p", "hi")), response_empty,
                 lambda: response_full(200, "OK", None, "text/html; charset=utf-8", [],
                                       [b"page"]),
                 lambda: redirect_to("/x"), lambda: response_jsexpr([1])):
        assert _answer(Response.__call__, make(), "GET")[0]
