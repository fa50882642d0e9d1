"""The example servlets of Racket's ``default-web-root/htdocs/servlets/examples`` that use
web cells and ``web-server/page``, as ``dispatchers/dispatch-servlets-test.rkt`` and
``test-tests.rkt`` drive them, over real sockets (the others are in test_managers.py):

* ``wc.rkt`` (``make-web-cell``, ``web-cell-ref``, ``web-cell-shadow``) and ``wc-fake.rkt``
  (the same counters without cells), through Racket's ``test-double-counters``: from
  every page, each "+" link starts from the values that page showed;
* ``add-page.rkt`` (``page``, ``embed/url``, ``lambda/page``, ``define/page``,
  ``get-binding``), through ``test-add-two-numbers``.

Both servlets use ``call/cc`` with ``servlet-prompt`` to re-enter the page; Python cannot,
so each port renders its page again from the handler (the page's own function), which
is what the continuation did.
"""
from __future__ import annotations

import random
from urllib.parse import urljoin

import requests

from servlets import (
    define_page,
    embed_url,
    get_binding,
    lambda_page,
    make_web_cell,
    page,
    response_xexpr,
    send_suspend_dispatch,
    web_cell_ref,
    web_cell_shadow,
)
from servlets.stateful import make
from servlets.testing import string_to_xexpr
from tests.racket.xml_path import se_path, se_path_list

url0 = "/servlets/example.rkt"


def call(base: str, url: str, bindings=()):
    response = requests.get(urljoin(base + url0, url), params=list(bindings), timeout=5)
    assert response.status_code == 200, response.text
    return string_to_xexpr(response.text)


# -- wc.rkt -------------------------------------------------------------------------------

def wc_start(initial_request):
    # A top-level frame must exist
    counter1 = make_counter()
    counter2 = make_counter()

    def render():
        # counter1 and counter2 must have been added to the top-level frame
        return send_suspend_dispatch(lambda embed_url: response_xexpr(
            ("html",
             ("body", ("h2", "Web Cell Test"),
              ("div", ("h3", "First"), include_counter(counter1, render, embed_url)),
              ("div", ("h3", "Second"), include_counter(counter2, render, embed_url))))))

    return render()


def make_counter():
    return make_web_cell(0)


def include_counter(a_counter, render, embed_url):
    def plus(request):
        # A new frame has been created
        last = web_cell_ref(a_counter)
        # It is a child of the parent frame, so we can inspect the value
        web_cell_shadow(a_counter, last + 1)
        # The new frame has been modified
        return render()

    return ("div", ("h3", str(web_cell_ref(a_counter))),
            ("a", [("href", embed_url(plus))], "+"))


# -- wc-fake.rkt ---------------------------------------------------------------------------

def wc_fake_start(initial_request):
    def render(counter1, counter2):
        return send_suspend_dispatch(lambda embed_url: response_xexpr(
            ("html",
             ("body", ("h2", "Web Cell Test"),
              ("div", ("h3", "First"),
               include_fake(counter1, embed_url, lambda: render(counter1 + 1, counter2))),
              ("div", ("h3", "Second"),
               include_fake(counter2, embed_url, lambda: render(counter1, counter2 + 1)))))))

    return render(0, 0)


def include_fake(my_counter, embed_url, increment):
    return ("div", ("h3", str(my_counter)),
            ("a", [("href", embed_url(lambda request: increment()))], "Increment"))


def run_double_counters(invoke_url):
    """Racket's ``test-double-counters`` (servlet-test-util.rkt and test-tests.rkt)."""
    def invoke(u):
        sx = invoke_url(u)
        ks = se_path_list(("div", "div", "a", "#href"), sx)
        return se_path_list(("div", "div", "h3"), sx), ks[0], ks[1]

    v0_0, k0_0_1, k0_0_2 = invoke(url0)
    # One add
    v1_0, k1_0_1, k1_0_2 = invoke(k0_0_1)
    v0_1, k0_1_1, k0_1_2 = invoke(k0_0_2)
    # Two adds
    v2_0, _, _ = invoke(k1_0_1)
    v1_1, _, _ = invoke(k0_1_1)
    v1_1_again, _, _ = invoke(k1_0_2)
    v0_2, _, _ = invoke(k0_1_2)
    assert [v0_0, v1_0, v0_1, v2_0, v1_1, v1_1_again, v0_2] == [
        ["0", "0"], ["1", "0"], ["0", "1"], ["2", "0"], ["1", "1"], ["1", "1"], ["0", "2"]]


def test_wc_web_cells(served):
    base = served(make(wc_start))
    run_double_counters(lambda u: call(base, u))


def test_wc_fake_no_cells(served):
    base = served(make(wc_fake_start))
    run_double_counters(lambda u: call(base, u))


def test_a_closure_variable_is_not_a_web_cell(served):
    """The control: the same servlet with a plain variable fails the test, which is
    why the test tells web cells apart from shared state."""
    def start(initial_request):
        counters = [0, 0]

        def render():
            def part(i):
                def plus(request):
                    counters[i] += 1
                    return render()
                return lambda embed_url: ("div", ("h3", str(counters[i])),
                                          ("a", [("href", embed_url(plus))], "+"))
            return send_suspend_dispatch(lambda embed_url: response_xexpr(
                ("html", ("body", ("div", ("h3", "First"), part(0)(embed_url)),
                          ("div", ("h3", "Second"), part(1)(embed_url))))))
        return render()

    base = served(make(start))
    try:
        run_double_counters(lambda u: call(base, u))
    except AssertionError:
        return
    raise AssertionError("shared state passed the web cells' test")


# -- add-page.rkt --------------------------------------------------------------------------

def request_number(which_number):
    return page(lambda: response_xexpr(
        ("html", ("head", ("title", "Enter a Number to Add")),
         ("body", [("bgcolor", "white")],
          ("form", [("action", embed_url(lambda_page(
                        lambda request: int(get_binding("number"))))),
                    ("method", "post")],
           "Enter the ", which_number, " number to add: ",
           ("input", [("type", "text"), ("name", "number"), ("value", "")]),
           ("input", [("type", "submit"), ("name", "enter"), ("value", "Enter")]))))))


@define_page
def add_page_start(request):
    return response_xexpr(
        ("html", ("head", ("title", "Sum")),
         ("body", [("bgcolor", "white")],
          ("p", "The answer is ",
           str(request_number("first") + request_number("second"))))))


def run_add_two_numbers(invoke_url):
    """Racket's ``test-add-two-numbers`` (servlet-test-util.rkt)."""
    x, y = random.randrange(500), random.randrange(500)
    r0 = invoke_url(url0, [])
    k0, i0 = se_path(("form", "#action"), r0), se_path(("form", "input", "#name"), r0)
    r1 = invoke_url(k0, [(i0, str(x))])
    k1, i1 = se_path(("form", "#action"), r1), se_path(("form", "input", "#name"), r1)
    r2 = invoke_url(k1, [(i1, str(y))])
    assert se_path(("p",), r2) == f"The answer is {x + y}"


def test_add_page(served):
    base = served(make(add_page_start))
    run_add_two_numbers(lambda u, bindings: call(base, u, bindings))
