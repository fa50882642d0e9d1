"""Web cells (servlets.web_cells, Racket's web-server/servlet/web-cells): the cells on
their own, then in stateful servlets over real sockets. Racket's own test, the double
counters of wc.rkt, is in tests/racket/test_servlet_examples.py and test_test_tests.py."""
from __future__ import annotations

import html
import re

import gevent
import gevent.event
import pytest
import requests

from servlets import (
    is_web_cell,
    make_web_cell,
    response_xexpr,
    web_cell_ref,
    web_cell_shadow,
)
from servlets.stateful import make
from servlets.web import redirect_get, send_suspend, send_suspend_dispatch

_LINK = re.compile(r'(?:href|action)="([^"]*)"')


def links(page: str) -> list[str]:
    return [html.unescape(u) for u in _LINK.findall(page)]


def shown(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page).group(1)


# -- the cells on their own ----------------------------------------------------------

def test_a_cell_reads_what_was_last_shadowed_in_this_frame():
    def run():
        cell = make_web_cell(1)
        assert is_web_cell(cell) and web_cell_ref(cell) == 1
        web_cell_shadow(cell, 2)
        assert web_cell_ref(cell) == 2
        return cell

    cell = gevent.spawn(run).get()
    # another greenlet has a frame of its own: the cell has its value there
    assert gevent.spawn(web_cell_ref, cell).get() == 1


def test_shadowing_in_one_greenlet_does_not_reach_another():
    cell = gevent.spawn(make_web_cell, "made").get()
    seen = []

    shadowed = [gevent.event.Event(), gevent.event.Event()]
    read = gevent.event.Event()

    def shadow_then_read(i, value):
        web_cell_shadow(cell, value)
        shadowed[i].set()
        read.wait()
        seen.append(web_cell_ref(cell))

    greenlets = [gevent.spawn(shadow_then_read, 0, "a"), gevent.spawn(shadow_then_read, 1, "b")]
    for event in shadowed:  # both have shadowed before either reads
        assert event.wait(5)
    read.set()
    gevent.joinall(greenlets, raise_error=True)
    assert seen == ["a", "b"]


def test_is_web_cell_and_bad_arguments():
    assert not is_web_cell(0) and not is_web_cell(None)
    with pytest.raises(TypeError, match="web_cell_ref: expected a web cell"):
        web_cell_ref("cell")
    with pytest.raises(TypeError, match="web_cell_ref: expected a web cell"):
        web_cell_ref([])                      # unhashable, still a clear error
    with pytest.raises(TypeError, match="web_cell_shadow: expected a web cell"):
        web_cell_shadow(object(), 1)


# -- in stateful servlets ------------------------------------------------------------

def counter_page(cell, embed_url, plus):
    return response_xexpr(("html", ("body", ("h1", str(web_cell_ref(cell))),
                                    ("a", [("href", embed_url(plus))], "+"))))


def test_a_handlers_shadow_goes_on_with_its_value(served):
    """Racket's handler runs in the continuation of send/suspend/dispatch: the rest of
    the function after it sees the cell as the handler left it."""
    def start(request):
        cell = make_web_cell(0)

        def plus(request):
            web_cell_shadow(cell, web_cell_ref(cell) + 1)
            return "plus"

        while True:
            assert send_suspend_dispatch(lambda embed_url: counter_page(cell, embed_url, plus)) \
                == "plus"

    base = served(make(start))
    page0 = requests.get(base + "/", timeout=5).text
    page1 = requests.get(base + links(page0)[0], timeout=5).text
    page2 = requests.get(base + links(page1)[0], timeout=5).text
    assert [shown(p) for p in (page0, page1, page2)] == ["0", "1", "2"]


def test_back_button_from_an_embedded_handler(served):
    """Each use of a page's link starts from the page's values: "+" on an older page
    gives one more than that page showed, however often it is used."""
    def start(request):
        cell = make_web_cell(0)

        def show():
            def plus(request):
                web_cell_shadow(cell, web_cell_ref(cell) + 1)
                return show()
            return send_suspend_dispatch(lambda embed_url: counter_page(cell, embed_url, plus))

        return show()

    base = served(make(start))
    page0 = requests.get(base + "/", timeout=5).text
    page1 = requests.get(base + links(page0)[0], timeout=5).text
    page2 = requests.get(base + links(page1)[0], timeout=5).text
    assert shown(page2) == "2"
    # back to page 1, "+" again: 2, not 3; back to page 0 twice: 1 each time
    assert shown(requests.get(base + links(page1)[0], timeout=5).text) == "2"
    assert shown(requests.get(base + links(page0)[0], timeout=5).text) == "1"
    assert shown(requests.get(base + links(page0)[0], timeout=5).text) == "1"


def test_send_suspend_keeps_the_frame_it_was_called_in(served):
    def start(request):
        cell = make_web_cell("start")
        web_cell_shadow(cell, "before the page")
        answer = send_suspend(lambda k_url: response_xexpr(("a", [("href", k_url)], "go")))
        first = web_cell_ref(cell)
        web_cell_shadow(cell, answer.args["v"])
        return response_xexpr(("p", f"{first} / {web_cell_ref(cell)}"))

    base = served(make(start))
    k_url = links(requests.get(base + "/", timeout=5).text)[0]
    assert requests.get(base + k_url + "?v=after", timeout=5).text == \
        "<p>before the page / after</p>"


def test_a_reload_after_redirect_get_shows_the_same_values(served):
    def start(request):
        cell = make_web_cell(0)

        def show():
            def plus(request):
                web_cell_shadow(cell, web_cell_ref(cell) + 1)
                redirect_get()
                return show()
            return send_suspend_dispatch(lambda embed_url: counter_page(cell, embed_url, plus))

        return show()

    base = served(make(start))
    s = requests.Session()
    page0 = s.get(base + "/", timeout=5).text
    after = s.get(base + links(page0)[0], timeout=5)
    assert [r.status_code for r in after.history] == [303] and shown(after.text) == "1"
    assert shown(s.get(after.url, timeout=5).text) == "1"          # the reload


def test_module_level_cells_are_per_session(served):
    """A cell made at module level (here: outside any servlet) reads as its initial
    value in each session until that session shadows it; sessions never share it."""
    visits = gevent.spawn(make_web_cell, 0).get()

    def start(request):
        def show():
            def plus(request):
                web_cell_shadow(visits, web_cell_ref(visits) + 1)
                return show()
            return send_suspend_dispatch(
                lambda embed_url: counter_page(visits, embed_url, plus))
        return show()

    base = served(make(start))
    alice = requests.get(base + "/", timeout=5).text
    alice = requests.get(base + links(alice)[0], timeout=5).text
    alice = requests.get(base + links(alice)[0], timeout=5).text
    bob = requests.get(base + "/", timeout=5).text
    assert shown(alice) == "2" and shown(bob) == "0"
    assert web_cell_ref(visits) == 0          # the test's own frame never had it shadowed


def test_each_link_keeps_the_frame_it_was_embedded_in(served):
    """Racket's embed/url captures the frame when it is called (its send/suspend
    does): a page that shadows a cell between two links gives each link its value."""
    def start(request):
        cell = make_web_cell("made")

        def show(request):
            return response_xexpr(("p", web_cell_ref(cell)))

        def response_generator(embed_url):
            web_cell_shadow(cell, "first link")
            first = embed_url(show)
            web_cell_shadow(cell, "second link")
            return response_xexpr(("div", ("a", [("href", first)], "1"),
                                   ("a", [("href", embed_url(show))], "2")))

        return send_suspend_dispatch(response_generator)

    base = served(make(start))
    first, second = links(requests.get(base + "/", timeout=5).text)
    assert requests.get(base + second, timeout=5).text == "<p>second link</p>"
    assert requests.get(base + first, timeout=5).text == "<p>first link</p>"
