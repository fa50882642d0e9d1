"""``any_to_response``, ``can_be_response``, ``set_any_to_response`` (Racket's
``web-server/servlet/servlet-structs``): Racket has no tests of its own for them, so
these follow its documentation and its compat README (``(set-any->response!
response/xexpr)``), over real sockets for the servlets that return such values."""
from __future__ import annotations

import logging

import pytest
import requests

from servlets import (
    any_to_response,
    can_be_response,
    dispatch_servlet,
    response_full,
    response_xexpr,
    set_any_to_response,
)
from servlets import servlet_structs as structs
from servlets.stateful import make
from servlets.web import send_back, send_suspend


@pytest.fixture
def converter():
    """Set a converter for one test; the process-wide default comes back after it."""
    before = structs._converter
    yield set_any_to_response
    structs._converter = before


def xexpr_converter(value):
    return response_xexpr(value) if isinstance(value, tuple) else None


def test_the_default_converts_nothing_and_keeps_responses():
    response = response_xexpr(("p", "hi"))
    assert any_to_response(response) is response          # eq?, as Racket guarantees
    for value in (("p", "hi"), "<p>hi</p>", None, 42):
        assert any_to_response(value) is None
        assert not can_be_response(value)
    assert can_be_response(response)


def test_a_converter_makes_responses(converter):
    converter(xexpr_converter)
    made = any_to_response(("p", "hi"))
    assert callable(made) and made.get_data() == b"<p>hi</p>"
    assert can_be_response(("p", "hi")) and not can_be_response("text")
    response = response_full(204, None, None, None, [], [])
    assert any_to_response(response) is response          # responses never reach it


def test_a_converter_must_give_a_response_or_none(converter):
    converter(lambda value: "not a response")
    with pytest.raises(TypeError, match="converter .* not a response or None"):
        any_to_response(1)
    converter(lambda value: False)                        # Racket's #f
    assert any_to_response(1) is None


def test_set_any_to_response_wants_a_procedure():
    with pytest.raises(TypeError, match="set_any_to_response: converter must be a procedure"):
        set_any_to_response("response_xexpr")


def test_a_servlet_may_return_what_the_converter_takes(served, converter):
    converter(lambda v: response_xexpr(("p", v)) if isinstance(v, str) else xexpr_converter(v))
    base = served(dispatch_servlet(
        lambda request: ("html", ("body", ("p", "x-expression"))) if request.path == "/x"
        else "a string"))
    answer = requests.get(base + "/x", timeout=5)
    assert answer.status_code == 200
    assert answer.text == "<html><body><p>x-expression</p></body></html>"
    assert answer.headers["Content-Type"].startswith("text/html")
    assert requests.get(base + "/s", timeout=5).text == "<p>a string</p>"


def test_a_value_no_converter_takes_is_one_logged_500(served, converter, caplog):
    converter(xexpr_converter)

    def my_servlet(request):
        return {"not": "convertible"}

    base = served(dispatch_servlet(my_servlet))
    with caplog.at_level(logging.ERROR, logger="dispatch"):
        assert requests.get(base + "/", timeout=5).status_code == 500
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "my_servlet" in errors[0].getMessage()
    assert "dict {'not': 'convertible'}" in errors[0].getMessage()


def test_the_converter_is_not_called_for_responses(served, converter):
    calls = []
    converter(lambda value: calls.append(value))
    base = served(dispatch_servlet(lambda request: response_xexpr(("p", "fast"))))
    for _ in range(3):
        assert requests.get(base + "/", timeout=5).text == "<p>fast</p>"
    assert calls == []


def test_stateful_servlets_convert_every_response(served, converter):
    converter(xexpr_converter)

    def start(request):
        answer = send_suspend(lambda k_url: ("html", ("body", ("a", [("href", k_url)], "next"))))
        if answer.args.get("back"):
            send_back(("p", "sent back"))
        return ("p", "returned")

    base = served(make(start))
    first = requests.get(base + "/app", timeout=5)
    assert first.status_code == 200 and first.text.startswith("<html><body><a href=")
    k_url = first.text.split('href="')[1].split('"')[0]
    assert requests.get(base + k_url, timeout=5).text == "<p>returned</p>"
    again = requests.get(base + "/app", timeout=5).text.split('href="')[1].split('"')[0]
    assert requests.get(base + again + "?back=1", timeout=5).text == "<p>sent back</p>"


def test_an_expiration_handler_may_return_a_convertible_value(served, converter):
    from servlets.managers import make_none_manager

    converter(xexpr_converter)
    # the none manager stores no continuation: send_suspend gets its expiration handler
    manager = make_none_manager(lambda request: ("p", "gone"))
    base = served(make(lambda r: send_suspend(lambda k: ("a", [("href", k)], "k")),
                       manager=manager))
    assert requests.get(base + "/", timeout=5).text == "<p>gone</p>"
    # and a continuation URL that no instance has
    fake = "/;k=" + "a" * 22 + ".1." + "b" * 22
    assert requests.get(base + fake, timeout=5).text == "<p>gone</p>"


def test_send_back_of_none_is_answered(served, caplog):
    """Not a response, and with the default converter none: a logged 500, not a request
    left waiting for ever."""
    base = served(make(lambda request: send_back(None)))
    with caplog.at_level(logging.ERROR, logger="servlets.stateful"):
        assert requests.get(base + "/", timeout=5).status_code == 500
    assert any("send_back returned None" in r.getMessage() for r in caplog.records)
