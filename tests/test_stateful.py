"""Stateful servlets (servlets.stateful, servlets.web) over real sockets.

``python -m tests.test_stateful 1000`` measures the server's resident memory per
suspended session (see :func:`measure_sessions`).
"""
from __future__ import annotations

import gc
import html
import logging
import re
import sys

import gevent
import pytest
import requests

from servlets import response_xexpr
from servlets.managers import (
    make_none_manager,
    make_threshold_lru_manager,
    make_timeout_manager,
)
from servlets.stateful import ServletGreenlet, make
from servlets.web import (
    clear_continuation_table,
    current_servlet_continuation_expiration_handler,
    redirect_get,
    send_back,
    send_finish,
    send_forward,
    send_suspend,
    send_suspend_dispatch,
)

EXPIRED = "Sorry, this page has expired. Please go back."
_LINK = re.compile(r'(?:href|action)="([^"]*)"')


def links(page: str) -> list[str]:
    return [html.unescape(u) for u in _LINK.findall(page)]


def page(xexpr):
    return response_xexpr(("html", ("body", xexpr)))


def text_of(response) -> str:
    assert response.status_code == 200, response.text
    return response.text


def expired(response) -> bool:
    """The expiration page: 410 Gone (Racket: 200), which browsers show as any page,
    never cached."""
    assert response.status_code == 410, (response.status_code, response.text)
    assert response.headers["Cache-Control"] == "no-store"
    return EXPIRED in response.text


# -- the add-two-numbers servlet of Racket's documentation (send/suspend) ------------

def get_number(label):
    request = send_suspend(lambda k_url: page(
        ("form", [("action", k_url), ("method", "post")], label,
         ("input", [("name", "n")]))))
    return int(request.form["n"])


def add_two(request):
    total = get_number("First:") + get_number("Second:")
    return page(("p", f"sum {total}"))


def test_send_suspend_runs_straight_line_code(served):
    base = served(make(add_two))
    s = requests.Session()
    first = links(text_of(s.get(base + "/")))[0]
    second = links(text_of(s.post(base + first, data={"n": "2"})))[0]
    assert first != second
    assert "sum 5" in text_of(s.post(base + second, data={"n": "3"}))
    # the rest of a function runs once: a second use is the expiration page, not a 500
    assert expired(s.post(base + second, data={"n": "4"}))
    assert expired(s.post(base + first, data={"n": "9"}))


def test_continuation_urls_are_unguessable_and_in_the_path(served):
    base = served(make(add_two))
    url = links(requests.get(base + "/some/where?x=1").text)[0]
    match = re.fullmatch(r"/some/where;k=([A-Za-z0-9_-]{22})\.(\d+)\.([A-Za-z0-9_-]{22})", url)
    assert match, url
    # a GET form drops its action's query; the marker lives in the path and survives
    assert "sum" not in requests.get(base + url.split("?")[0], params={"n": "1"}).text


def test_damaged_or_foreign_markers_get_the_expiration_page(served):
    base = served(make(add_two))
    url = links(requests.get(base + "/").text)[0]
    instance, k_id, salt = url.split(";k=")[1].split(".")
    for bad in ["/;k=", "/;k=junk", "/;k=" + "A" * 22 + ".1." + "B" * 22,
                f"/;k={instance}.{k_id}.{'A' * 22}", f"/;k={instance}.99.{salt}",
                f"/;k={instance}.{k_id}.{salt}x", "/;k=%00"]:
        assert expired(requests.get(base + bad)), bad
    # the real one still works after all that
    assert "Second:" in requests.post(base + url, data={"n": "1"}).text


# -- send/suspend/dispatch: handlers run at every use, closures share state ----------

def counter(request):
    state = {"clicks": 0}

    def show(embed_url):
        def click(req):
            state["clicks"] += 1
            return page(("p", f"clicks {state['clicks']}"))
        return page(("a", [("href", embed_url(click))], "click"))

    return send_suspend_dispatch(show)


def test_embedded_handler_runs_at_every_use_with_shared_state(served):
    base = served(make(counter))
    url = links(requests.get(base + "/").text)[0]
    assert [requests.get(base + url).text.count(f"clicks {n}") for n in (1, 2, 3)] == [1, 1, 1]
    # another instance has its own state
    other = links(requests.get(base + "/").text)[0]
    assert "clicks 1" in requests.get(base + other).text
    assert "clicks 4" in requests.get(base + url).text


def count_dot_com(i):
    """Racket's documentation example: the handlers' values go to the rest of the
    function (send/suspend/dispatch not in tail position)."""
    return count_dot_com(send_suspend_dispatch(lambda embed_url: page(
        ("div", ("a", [("href", embed_url(lambda req: i - 1))], "-"),
         ("h1", str(i)),
         ("a", [("href", embed_url(lambda req: i + 1))], "+")))))


def test_handler_values_return_from_send_suspend_dispatch_once(served):
    base = served(make(lambda request: count_dot_com(0)))
    minus, plus = links(requests.get(base + "/").text)
    second = requests.get(base + plus).text
    assert "<h1>1</h1>" in second
    assert "<h1>2</h1>" in requests.get(base + links(second)[1]).text
    # the first page's rest has run: reusing its links cannot run it again
    assert expired(requests.get(base + minus))


# -- the tutorial's idiom: handlers in tail position, POST-redirect-GET --------------

def blog_servlet(posts, method="post"):
    def start(request):
        return render_blog(request)

    def render_blog(request):
        def response_generator(embed_url):
            return page(("div",
                         ("ul", *[("li", ("a", [("href", embed_url(detail_handler(p)))], p))
                                  for p in posts]),
                         ("form", [("action", embed_url(insert_handler)), ("method", method)],
                          ("input", [("name", "title")]))))

        def insert_handler(request):
            posts.append(request.values["title"])
            return render_blog(redirect_get())

        return send_suspend_dispatch(response_generator)

    def detail_handler(post):
        def handler(request):
            return send_suspend_dispatch(lambda embed_url: page(
                ("div", ("h2", post), ("a", [("href", embed_url(render_blog))], "back"))))
        return handler

    return start


@pytest.mark.parametrize("method", ["post", "get"])
def test_tutorial_idiom_post_redirect_get_reload_and_back(served, method):
    """The tutorial's forms are GET forms (no method): the browser replaces the
    action's query with the fields; the continuation marker in the path survives."""
    posts = ["First"]
    base = served(make(blog_servlet(posts, method)))
    s = requests.Session()
    home = s.get(base + "/").text
    first_link, action = links(home)
    if method == "get":
        added = s.get(base + action, params={"title": "Second"})
    else:
        added = s.post(base + action, data={"title": "Second"})
    assert [r.status_code for r in added.history] == [303]
    assert "Second" in text_of(added) and posts == ["First", "Second"]
    # a reload of the page the redirect led to shows it again and does not post again
    reloaded = s.get(added.url)
    assert "Second" in text_of(reloaded) and posts == ["First", "Second"]
    # the browser's back button: the older page's links still work
    detail = text_of(s.get(base + first_link))
    assert "<h2>First</h2>" in detail
    assert "Second" in text_of(s.get(base + links(detail)[0]))
    assert "<h2>First</h2>" in text_of(s.get(base + first_link))
    # posting from the older page again posts again, as in Racket
    fields = {"params" if method == "get" else "data": {"title": "Third"}}
    s.request(method, base + action, **fields)
    assert posts == ["First", "Second", "Third"]


# -- send/back, send/forward, send/finish, clear-continuation-table! ----------------

def test_send_back_forward_finish_and_clear(served):
    def start(request):
        r = send_suspend(lambda k: page(("a", [("href", k)], "one")))
        if r.args.get("back"):
            send_back(page(("p", "sent back")))
        r2 = send_forward(lambda k: page(("a", [("href", k)], "two")))
        if r2.args.get("finish"):
            send_finish(page(("p", "finished")))
        send_suspend(lambda k: page(("a", [("href", k)], "three")))
        clear_continuation_table()
        return page(("p", "cleared"))

    base = served(make(start))
    one = links(requests.get(base + "/").text)[0]
    assert "sent back" in requests.get(base + one + "?back=1").text
    one = links(requests.get(base + "/").text)[0]
    keep = links(requests.get(base + "/").text)[0]   # another instance, untouched
    two = links(requests.get(base + one).text)[0]
    three = links(requests.get(base + two).text)[0]
    assert "cleared" in requests.get(base + three).text
    assert expired(requests.get(base + three))
    assert "two" in requests.get(base + keep).text   # the other instance's table is its own
    # finish clears the table: the page's own URLs expire
    one = links(requests.get(base + "/").text)[0]
    two_page = requests.get(base + one).text
    two = links(two_page)[0]
    assert "finished" in requests.get(base + two + "?finish=1").text
    assert expired(requests.get(base + two))


def test_send_forward_expires_the_earlier_pages(served):
    def start(request):
        def pick(embed_url):
            return page(("div", ("a", [("href", embed_url(go))], "go"),
                         ("a", [("href", embed_url(lambda r: page(("p", "stay"))))], "stay")))

        def go(request):
            send_forward(lambda k: page(("a", [("href", k)], "forwarded")))
            return page(("p", "done"))
        return send_suspend_dispatch(pick)

    base = served(make(start))
    go_link, stay_link = links(requests.get(base + "/").text)
    assert "stay" in requests.get(base + stay_link).text
    forwarded = links(requests.get(base + go_link).text)[0]
    assert expired(requests.get(base + stay_link))
    assert "done" in requests.get(base + forwarded).text


def test_many_concurrent_sessions_do_not_mix(served):
    import gevent.pool
    base = served(make(add_two))

    def session(n):
        s = requests.Session()
        first = links(s.get(base + "/", timeout=10).text)[0]
        second = links(s.post(base + first, data={"n": str(n)}, timeout=10).text)[0]
        return s.post(base + second, data={"n": str(1000 * n)}, timeout=10).text

    with gevent.Timeout(60):
        pages = gevent.pool.Pool(25).map(session, range(50))
    assert [f"sum {1001 * n}" in p for n, p in enumerate(pages)] == [True] * 50


def test_redirect_get_forget_adjust_timeout_and_errors_to_browser(served):
    from servlets.web import adjust_timeout, redirect_get_forget, with_errors_to_browser

    def start(request):
        adjust_timeout(60)
        r = send_suspend(lambda k: page(("a", [("href", k)], "one")))
        redirect_get_forget()    # the earlier URLs expire; the GET after the redirect is here
        return with_errors_to_browser(send_back, lambda: 1 // int(r.args["d"]))

    manager = make_timeout_manager(None, 10, 10)
    base = served(make(start, manager=manager))
    one = links(requests.get(base + "/").text)[0]
    r = requests.get(base + one + "?d=0")
    assert r.status_code == 500 and "ZeroDivisionError" in r.text and r.history
    assert expired(requests.get(base + one))
    manager.close()


# -- errors ----------------------------------------------------------------------------

def test_exceptions_and_non_responses_are_500_with_a_log_line(served, caplog):
    def start(request):
        r = send_suspend(lambda k: page(("a", [("href", k)], "next")))
        if r.args.get("none"):
            return None
        raise ValueError("boom")

    base = served(make(start))
    with caplog.at_level(logging.ERROR, logger="servlets.stateful"):
        r = requests.get(base + links(requests.get(base + "/").text)[0])
        assert r.status_code == 500 and "boom" not in r.text and "Traceback" not in r.text
        r = requests.get(base + links(requests.get(base + "/").text)[0] + "?none=1")
        assert r.status_code == 500
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("servlet failed" in m for m in messages)
    assert any("not a response" in m for m in messages)


def test_a_failing_500_page_still_answers_never_a_hang(served, monkeypatch, caplog):
    """When even the 500 page cannot be built (a broken build of the response
    constructors once did this to every page), the request gets the WSGI layer's plain
    500 instead of waiting for ever; for the first request and for a resumed one."""
    def start(request):
        if request.args.get("now"):
            raise ValueError("boom")
        send_suspend(lambda k: page(("a", [("href", k)], "next")))
        raise ValueError("boom after")

    def broken():
        raise TypeError("the 500 page is broken too")

    def failing_responder(url, exc):
        raise RuntimeError("so is the responder")

    base = served(make(start, servlet_responder=failing_responder))
    k = links(requests.get(base + "/", timeout=5).text)[0]
    monkeypatch.setattr("servlets.stateful._server_error", broken)
    with caplog.at_level(logging.ERROR):
        for url in (base + "/?now=1", base + k):
            r = requests.get(url, timeout=5)
            assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/plain")
    messages = [rec.getMessage() for rec in caplog.records]
    assert messages.count("servlet's error handling failed") == 2


def test_outside_a_stateful_servlet_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not called from a stateful servlet"):
        send_suspend(lambda k: page("x"))


# -- expiration handlers and managers ----------------------------------------------

def test_expiration_handlers_manager_and_per_continuation(served):
    mine = make_threshold_lru_manager(lambda req: page(("p", "manager says expired")), 1 << 40)

    def start(request):
        send_suspend(lambda k: page(("a", [("href", k)], "a")))
        current_servlet_continuation_expiration_handler.set(
            lambda req: page(("p", "this one expired")))
        send_suspend(lambda k: page(("a", [("href", k)], "b")))
        return page(("p", "end"))

    base = served(make(start, manager=mine))
    a = links(requests.get(base + "/").text)[0]
    b = links(requests.get(base + a).text)[0]
    assert "end" in requests.get(base + b).text
    assert "manager says expired" in requests.get(base + a).text
    assert "this one expired" in requests.get(base + b).text
    assert "manager says expired" in requests.get(base + "/;k=bad").text


def test_none_manager_answers_suspension_with_the_expiration_page(served):
    base = served(make(add_two, manager=make_none_manager(None)))
    assert expired(requests.get(base + "/"))
    assert "plain" in requests.get(
        served(make(lambda req: page("plain"), manager=make_none_manager(None))) + "/").text


def test_a_continuation_from_another_server_is_expired_not_500(served):
    """Two servers sharing nothing (as two processes would): a continuation URL made by
    one reaches the other."""
    a = served(make(add_two))
    b = served(make(add_two))
    url = links(requests.get(a + "/").text)[0]
    assert expired(requests.post(b + url, data={"n": "1"}))
    assert "Second:" in requests.post(a + url, data={"n": "1"}).text


CHILD = r"""
from gevent import monkey; monkey.patch_all()
from dispatch.server import read_line, serve
from servlets import response_xexpr
from servlets.stateful import make
from servlets.web import send_suspend

def start(request):
    send_suspend(lambda k: response_xexpr(("a", [("href", k)], "next")))
    return response_xexpr(("p", "resumed"))

stop = serve(make(start, route="b"), port=0, listen_ip="127.0.0.1")
print(stop.port, flush=True)
read_line()  # until the test closes our input (sys.stdin.read would block the server)
stop(timeout=1)
"""


def test_two_processes_continuations_live_where_they_were_made(served):
    import os
    import subprocess

    def start(request):
        send_suspend(lambda k: page(("a", [("href", k)], "next")))
        return page(("p", "resumed"))

    a = served(make(start, route="a"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=root, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": root})
    try:
        with gevent.Timeout(30):
            b = f"http://127.0.0.1:{int(child.stdout.readline())}"
        first = requests.get(a + "/", timeout=10)
        assert first.cookies.get("route") == "a"
        from_a = links(first.text)[0]
        from_b = links(requests.get(b + "/", timeout=10).text)[0]
        assert expired(requests.get(b + from_a, timeout=10))
        assert expired(requests.get(a + from_b, timeout=10))
        assert "resumed" in text_of(requests.get(b + from_b, timeout=10))
        assert "resumed" in text_of(requests.get(a + from_a, timeout=10))
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_route_cookie_is_set_once():
    s = requests.Session()
    from dispatch.server import serve
    stop = serve(make(lambda req: page("hi"), route="w1", route_cookie="gd"), port=0,
                 listen_ip="127.0.0.1")
    try:
        base = f"http://127.0.0.1:{stop.port}"
        assert "gd=w1" in s.get(base + "/").headers["Set-Cookie"]
        assert "Set-Cookie" not in s.get(base + "/").headers
    finally:
        stop(timeout=1)
    with pytest.raises(ValueError):
        make(lambda req: None, route="a b")


def test_an_instance_that_never_suspends_is_not_kept(served):
    manager = make_threshold_lru_manager(None, 1 << 40)
    base = served(make(lambda req: page("plain"), manager=manager))
    for _ in range(10):
        assert "plain" in requests.get(base + "/").text
    assert manager.instance_count() == 0
    manager.close()


def test_timeout_manager_over_http(served, monkeypatch):
    import servlets.managers.timeouts as timeouts
    now = [1000.0]
    monkeypatch.setattr(timeouts, "_now", lambda: now[0])
    base = served(make(add_two, manager=make_timeout_manager(None, 60, 10)))
    url = links(requests.get(base + "/").text)[0]
    now[0] += 11
    assert expired(requests.post(base + url, data={"n": "1"}))


def _servlet_greenlets(manager=None) -> int:
    """Live servlet greenlets (of ``manager``'s instances only, if given: other tests'
    servers in this process may end theirs meanwhile)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, ServletGreenlet) and not o.dead
               and (manager is None or o.instance.manager is manager))


def test_lru_count_threshold_evicts_and_frees_greenlets(served):
    manager = make_threshold_lru_manager(None, 1 << 40, max_instances=5)
    base = served(make(add_two, manager=manager))
    assert _servlet_greenlets(manager) == 0
    s = requests.Session()
    urls = [links(s.get(base + "/").text)[0] for _ in range(20)]
    gevent.sleep(0)  # let the kills scheduled by the evictions run
    assert manager.instance_count() == 5
    assert _servlet_greenlets(manager) == 5
    assert expired(s.post(base + urls[0], data={"n": "1"}))
    assert "Second:" in s.post(base + urls[-1], data={"n": "1"}).text
    manager.close()
    gevent.sleep(0)
    assert _servlet_greenlets(manager) == 0


def test_lru_memory_threshold_collects(served):
    """Racket's life points: under memory pressure each check takes one; the unused die."""
    manager = make_threshold_lru_manager(None, 0)  # always short of memory
    base = served(make(add_two, manager=manager))
    url = links(requests.get(base + "/").text)[0]
    for _ in range(24):
        manager.collect()
    assert manager.instance_count() == 1
    manager.collect()
    assert manager.instance_count() == 0
    assert expired(requests.post(base + url, data={"n": "1"}))


def test_a_kept_request_lets_go_of_its_connection_but_keeps_its_form(served):
    from dispatch.connection import HANDLER_KEY
    kept = []

    def start(request):
        kept.append(request)
        request.headers.get("Host")   # cached properties must not pin the connection
        send_suspend(lambda k: page(("a", [("href", k)], "next")))
        return page(("p", request.form["x"] + request.headers["X-Test"]))

    base = served(make(start))
    r = requests.post(base + "/", data={"x": "posted"}, headers={"X-Test": "!"})
    request = kept[0]
    assert HANDLER_KEY not in request.environ
    assert all(getattr(v, "environ", request.environ) is request.environ
               for v in vars(request).values())
    assert "posted!" in requests.get(base + links(r.text)[0]).text


# -- memory -------------------------------------------------------------------------

def test_memory_per_suspended_session_is_small():
    from benchmarks.sessions import measure_sessions

    result = measure_sessions(300)
    assert result["resumable"]
    assert result["bytes_per_session"] < 64 * 1024, result


def test_a_stateful_servlet_that_declines_lets_the_next_dispatcher_answer(served):
    from dispatch import lift, sequencer
    from dispatch.core import next_dispatcher
    from servlets import response_xexpr, stateful

    def start(request):
        if request.path != "/mine":
            next_dispatcher()
        return response_xexpr(("p", "mine"))

    base = served(sequencer.make(stateful.make(start),
                                 lift.make(lambda request: response_xexpr(("p", "next")))))
    assert "mine" in requests.get(base + "/mine", timeout=5).text
    assert "next" in requests.get(base + "/other", timeout=5).text


# -- asking again after a validation error (send_suspend_until_valid) -------------------

def ask(label):
    def form(k_url, error):
        return page(("form", [("action", k_url), ("method", "post")],
                     ("p", [("class", "error")], str(error)) if error else "",
                     label, ("input", [("name", "n")])))
    return form


def wizard(request):
    from servlets.web import send_suspend_until_valid

    first = send_suspend_until_valid(ask("First:"), lambda req: int(req.form["n"]))

    def positive(req):
        n = int(req.form["n"])
        if n <= 0:
            raise ValueError(f"{n} is not positive")
        return n

    second = send_suspend_until_valid(ask("Second:"), positive)
    return page(("p", f"sum {first + second}"))


def test_a_bad_answer_is_asked_again_and_a_good_one_goes_on(served):
    base = served(make(wizard))
    s = requests.Session()
    first = links(text_of(s.get(base + "/")))[0]
    again = text_of(s.post(base + first, data={"n": "abc"}))
    assert "invalid literal for int() with base 10: 'abc'" in again
    assert "First:" in again
    retry = links(again)[0]
    assert retry != first and expired(s.post(base + first, data={"n": "1"}))  # spent
    second = text_of(s.post(base + retry, data={"n": "2"}))
    assert "Second:" in second and "error" not in second
    third = text_of(s.post(base + links(second)[0], data={"n": "-3"}))
    assert "-3 is not positive" in third and "Second:" in third
    assert "sum 7" in text_of(s.post(base + links(third)[0], data={"n": "5"}))


def test_without_it_a_bad_answer_ends_the_session(served):
    # What the new user hit: the ValueError after send_suspend is a 500, and the same
    # form corrected meets the expiration page.
    base = served(make(add_two))
    s = requests.Session()
    first = links(text_of(s.get(base + "/")))[0]
    assert s.post(base + first, data={"n": "abc"}).status_code == 500
    assert expired(s.post(base + first, data={"n": "1"}))


def test_other_errors_are_not_caught_and_bad_errors_argument():
    from servlets.web import send_suspend_until_valid

    with pytest.raises(TypeError, match="errors"):
        send_suspend_until_valid(ask("x"), int, errors=("not a class",))
    with pytest.raises(TypeError, match="errors"):
        send_suspend_until_valid(ask("x"), int, errors=())


def test_a_formlet_that_fails_is_asked_again(served):
    from servlets.formlets import (
        formlet,
        formlet_display,
        formlet_process,
        required,
        text_input,
        to_string,
    )
    from servlets.web import send_suspend_until_valid

    name = formlet(("div", "Name:", to_string(required(text_input()))), lambda n: n)

    def start(request):
        value = send_suspend_until_valid(
            lambda k, error: page(("form", [("action", k), ("method", "post")],
                                   ("p", "missing!") if error else "",
                                   *formlet_display(name))),
            lambda req: formlet_process(name, req))
        return page(("p", f"hello {value}"))

    base = served(make(start))
    s = requests.Session()
    first = links(text_of(s.get(base + "/")))[0]
    again = text_of(s.post(base + first, data={}))  # the field left out: FormletError
    assert "missing!" in again
    assert "hello Ann" in text_of(s.post(base + links(again)[0], data={"input_0": "Ann"}))
