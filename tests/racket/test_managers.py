"""Stateful servlets and their managers, as Racket tests them.

Racket's ``managers/all-managers-tests.rkt`` is an empty suite ("XXX test timeout.rkt,
none.rkt, lru.rkt"); the managers are exercised by ``dispatchers/dispatch-servlets-test.rkt``
through the example servlets of ``default-web-root/htdocs/servlets/examples``.  Those
that apply are ported here, each servlet line by line, over real sockets:
``add.rkt`` (send/suspend), ``add-v2.rkt`` (a timeout manager), ``add-ssd.rkt``
(send/suspend/dispatch), ``add-formlets0/1/2.rkt`` (send/formlet), ``clear.rkt``
(current-servlet-continuation-expiration-handler, send/forward, send/finish), and
``servlet/web-test.rkt`` (continuation URLs).  ``wc.rkt``, ``wc-fake.rkt`` (web cells)
and ``add-page.rkt`` (``web-server/page``) are in test_servlet_examples.py.
"""
from __future__ import annotations

import html
import random
import re

import pytest
import requests

from servlets import response_xexpr
from servlets.formlets import forest, formlet, input_int, send_formlet
from servlets.managers import create_timeout_manager
from servlets.stateful import (
    current_servlet_continuation_expiration_handler,
    is_continuation_url,
    make,
    strip_continuation_marker,
)
from servlets.web import send_finish, send_forward, send_suspend, send_suspend_dispatch

url0 = "/servlets/example.rkt"


def call(base: str, url: str, bindings=()) -> str:
    response = requests.get(base + url, params=list(bindings))
    assert response.status_code == 200, response.text
    return response.text


def xpath_form_action(page: str) -> str:
    return html.unescape(re.search(r'<form[^>]* action="([^"]*)"', page).group(1))


def xpath_form_input_name(page: str) -> str:
    return re.search(r'<form.*?<input[^>]* name="([^"]*)"', page, re.S).group(1)


def xpath(tag: str, page: str) -> str:
    return html.unescape(re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", page, re.S).group(1))


def run_add_two_numbers(base: str):
    """Racket's ``test-add-two-numbers`` (servlet-test-util.rkt)."""
    x, y = random.randrange(500), random.randrange(500)
    r0 = call(base, url0)
    k0, i0 = xpath_form_action(r0), xpath_form_input_name(r0)
    r1 = call(base, k0, [(i0, str(x))])
    k1, i1 = xpath_form_action(r1), xpath_form_input_name(r1)
    r2 = call(base, k1, [(i1, str(y))])
    assert xpath("p", r2) == f"The answer is {x + y}"


# -- add.rkt ----------------------------------------------------------------------------

def add_start(request_number):
    def start(initial_request):
        return response_xexpr(
            ("html", ("head", ("title", "Sum")),
             ("body", [("bgcolor", "white")],
              ("p", "The answer is ",
               str(request_number("first") + request_number("second"))))))
    return start


def build_request_page(which_number):
    return lambda k_url: response_xexpr(
        ("html", ("head", ("title", "Enter a Number to Add")),
         ("body", [("bgcolor", "white")],
          ("form", [("action", k_url), ("method", "post")],
           "Enter the ", which_number, " number to add: ",
           ("input", [("type", "text"), ("name", "number"), ("value", "")]),
           ("input", [("type", "submit"), ("name", "enter"), ("value", "Enter")])))))


def request_number_add(which_number):
    return int(send_suspend(build_request_page(which_number)).values["number"])


def test_add_send_suspend(served):
    run_add_two_numbers(served(make(add_start(request_number_add))))


def test_add_v2_timeout_manager(served):
    manager = create_timeout_manager(
        lambda _: response_xexpr(("html", ("body", "Expired"))), 360, 360)
    base = served(make(add_start(request_number_add), manager=manager))
    run_add_two_numbers(base)
    assert xpath("body", call(base, url0 + ";k=" + "x" * 22 + ".1." + "y" * 22)) == "Expired"
    manager.close()


# -- add-ssd.rkt --------------------------------------------------------------------------

def request_number_ssd(which_number):
    return send_suspend_dispatch(lambda embed_url: response_xexpr(
        ("html", ("head", ("title", "Enter a Number to Add")),
         ("body", [("bgcolor", "white")],
          ("form", [("action", embed_url(lambda request: int(request.values["number"]))),
                    ("method", "post")],
           "Enter the ", which_number, " number to add: ",
           ("input", [("type", "text"), ("name", "number"), ("value", "")]),
           ("input", [("type", "submit"), ("name", "enter"), ("value", "Enter")]))))))


def test_add_ssd_send_suspend_dispatch(served):
    run_add_two_numbers(served(make(add_start(request_number_ssd))))


# -- add-formlets0/1/2.rkt ----------------------------------------------------------------

def request_number_formlet(method):
    def request_number(which_number):
        options = {} if method is None else {"method": method}
        return send_formlet(
            formlet(forest("Enter the ", which_number, " number to add: ",
                           input_int,
                           ("input", [("type", "submit"), ("name", "enter"),
                                      ("value", "Enter")])),
                    lambda the_number: the_number),
            wrap=lambda f_expr: ("html", ("head", ("title", "Enter a Number to Add")),
                                 ("body", [("bgcolor", "white")], f_expr)),
            **options)
    return request_number


@pytest.mark.parametrize("method", [None, "GET", "POST"])
def test_add_formlets_send_formlet(served, method):
    run_add_two_numbers(served(make(add_start(request_number_formlet(method)))))


# -- clear.rkt ------------------------------------------------------------------------------

def clear_start(initial_request):
    current_servlet_continuation_expiration_handler.set(
        lambda _: response_xexpr(("html", ("body", "Expired"))))
    send_suspend(lambda k_url: response_xexpr(("html", ("a", [("href", k_url)], "Link"))))
    send_forward(lambda k_url: response_xexpr(("html", ("a", [("href", k_url)], "Link"))))
    send_finish(response_xexpr(("html", ("body", "Done."))))


def test_clear(served):
    base = served(make(clear_start))
    k0 = html.unescape(re.search(r'href="([^"]*)"', call(base, url0)).group(1))
    k1 = html.unescape(re.search(r'href="([^"]*)"', call(base, k0)).group(1))
    k0_expired = xpath("body", call(base, k0))
    done = xpath("body", call(base, k1))
    k1_expired = xpath("body", call(base, k1))
    assert [k0_expired, done, k1_expired] == ["Expired", "Done.", "Expired"]


# -- servlet/web-test.rkt: continuation-url? and embed-ids --------------------------------

def test_continuation_url(served):
    assert is_continuation_url("/servlets/example.rkt") is None
    base = served(make(add_start(request_number_add)))
    k0 = xpath_form_action(call(base, url0))
    assert k0.startswith(url0 + ";k=") and is_continuation_url(k0)
    assert strip_continuation_marker(k0) == url0
    # Racket's "identity": the ids embedded in the URL come back out of it
    instance, k, salt = is_continuation_url(k0)
    assert k0.endswith(f";k={instance}.{k}.{salt}") and isinstance(k, int)
    assert is_continuation_url("http://test.com" + k0 + "?a=1") == (instance, k, salt)
