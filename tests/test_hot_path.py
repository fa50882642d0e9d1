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
from servlets.xexpr import CData

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
}


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
