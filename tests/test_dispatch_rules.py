"""dispatch_rules over real sockets: composition in a sequencer, methods and 405, URL
arguments that do not parse, URL building with escapes, WebSocket route arguments."""
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

import dispatch.sequencer as sequencer
from dispatch.core import next_dispatcher
from dispatch.testing import Client
from servlets import (
    DispatchUrlError,
    dispatch_case,
    dispatch_rules,
    dispatch_servlet,
    dispatch_url,
    integer_arg,
    make_arg,
    real_arg,
    response_jsexpr,
    response_xexpr,
    string_arg,
    ws_dispatch_rules,
)


def list_posts(req):
    return response_xexpr(("p", "list-posts"))


def review_post(req, slug):
    return response_jsexpr({"post": slug})


def review_archive(req, year, month):
    return response_jsexpr({"year": year, "month": month})


def new_post(req):
    return response_jsexpr({"created": req.form.get("title")}, code=201)


blog_dispatch, blog_url = dispatch_rules(
    (("",), list_posts),
    (("posts", string_arg()), review_post),
    (("posts",), "post", new_post),
    (("archive", integer_arg(), integer_arg()), review_archive))


def fallback(req):
    return response_xexpr(("p", "fallback"), code=404)


@pytest.fixture
def blog(served):
    return served(sequencer.make(dispatch_servlet(blog_dispatch), dispatch_servlet(fallback)))


def test_rules_route_with_typed_arguments(blog):
    assert requests.get(blog + "/", timeout=5).text == "<p>list-posts</p>"
    assert requests.get(blog + "/posts/Extracurricular-Activity", timeout=5).json() \
        == {"post": "Extracurricular-Activity"}
    assert requests.get(blog + "/archive/1984/10", timeout=5).json() \
        == {"year": 1984, "month": 10}


def test_unmatched_request_declines_to_the_next_dispatcher(blog):
    for path in ("/contact", "/archive/1984", "/archive/post/10", "/posts/a/b"):
        response = requests.get(blog + path, timeout=5)
        assert (response.status_code, response.text) == (404, "<p>fallback</p>"), path


def test_method_rules_and_405_with_allow(blog):
    response = requests.post(blog + "/posts", data={"title": "Hi"}, timeout=5)
    assert (response.status_code, response.json()) == (201, {"created": "Hi"})
    response = requests.delete(blog + "/archive/1984/10", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    response = requests.get(blog + "/posts", timeout=5)
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")


def test_head_is_answered_by_get_rules(blog):
    response = requests.head(blog + "/archive/1984/10", timeout=5)
    assert response.status_code == 200 and response.content == b""


def test_argument_that_does_not_parse_falls_through_to_the_next_rule():
    def by_id(req, n):
        return ("id", n)

    def by_slug(req, s):
        return ("slug", s)

    dispatch, _ = dispatch_rules((("item", integer_arg()), by_id),
                                 (("item", string_arg()), by_slug))
    client = Client(dispatch_servlet(lambda req: response_jsexpr(dispatch(req))))
    assert client.get("/item/12").json == ["id", 12]
    assert client.get("/item/twelve").json == ["slug", "twelve"]
    assert client.get("/item/1.5").json == ["slug", "1.5"]


def test_else_takes_what_no_rule_does():
    dispatch, _ = dispatch_rules((("a",), lambda req: "a"), else_=lambda req: "else")
    client = Client(dispatch_servlet(lambda req: response_jsexpr(dispatch(req))))
    assert client.get("/a").json == "a"
    assert client.get("/b/c").json == "else"


def test_url_escapes_segments_and_dispatch_decodes_them(served):
    def show(req, name):
        return response_jsexpr(name)

    dispatch, url = dispatch_rules((("files", string_arg()), show))
    assert url(show, "a b/c?d#e%") == "/files/a%20b%2Fc%3Fd%23e%25"
    assert url(show, "h\u00e9") == "/files/h%C3%A9"
    base = served(dispatch_servlet(dispatch))
    assert requests.get(base + url(show, "h\u00e9 w"), timeout=5).json() == "h\u00e9 w"


def test_url_errors_name_the_handler():
    _, url = dispatch_rules(((integer_arg(),), review_post))
    with pytest.raises(DispatchUrlError, match="review_post"):
        url(review_post, "x")
    with pytest.raises(DispatchUrlError):
        url(list_posts)


def test_user_defined_argument_and_real_arg():
    date_arg = make_arg(lambda s: tuple(int(p) for p in s.split("-")),
                        lambda t: "-".join(f"{p:02d}" for p in t))

    def day(req, date):
        return date

    def price(req, amount):
        return amount

    dispatch, url = dispatch_rules((("day", date_arg), day), (("price", real_arg()), price))
    client = Client(dispatch_servlet(lambda req: response_jsexpr(dispatch(req))))
    assert client.get("/day/2024-02-09").json == [2024, 2, 9]
    assert url(day, (2024, 2, 9)) == "/day/2024-02-09"
    assert client.get("/price/2.5").json == 2.5
    assert client.get("/price/1/4").status_code == 404  # two segments: no rule
    assert url(price, 0.25) == "/price/0.25"


def test_dispatch_case_and_dispatch_url_separately():
    dispatch = dispatch_case((("x", integer_arg()), "*", lambda req, n: n * 2))
    url = dispatch_url((("x", integer_arg()), review_post))
    client = Client(dispatch_servlet(lambda req: response_jsexpr(dispatch(req))))
    assert client.delete("/x/21").json == 42
    assert url(review_post, 3) == "/x/3"


@pytest.mark.parametrize("rule", [
    ("posts", list_posts),                       # a string, not a tuple
    ((1,), list_posts),                          # neither a string nor an argument
    (("a",), "get", "not callable"),
    (("a",),),
])
def test_bad_rules_are_refused_when_built(rule):
    with pytest.raises((TypeError, ValueError)):
        dispatch_rules(rule)


def test_a_handler_may_decline_too():
    dispatch, _ = dispatch_rules((("maybe",), lambda req: next_dispatcher()))
    client = Client(sequencer.make(dispatch_servlet(dispatch),
                                   dispatch_servlet(lambda req: response_jsexpr("next"))))
    assert client.get("/maybe").json == "next"


def test_websocket_handlers_get_route_arguments(served):
    from dispatch.websocket import ws_connect, ws_recv, ws_send

    def room(c, name, number):
        ws_send(c, f"{name}:{number}:{ws_recv(c)}")

    base = served(sequencer.make(
        ws_dispatch_rules((("chat", string_arg(), integer_arg()), room)),
        dispatch_servlet(fallback)))
    c = ws_connect(base.replace("http://", "ws://") + "/chat/lobby/7")
    ws_send(c, "hi")
    assert ws_recv(c) == "lobby:7:hi"
    # a path no rule takes is declined: the servlet answers it
    assert requests.get(base + "/chat/lobby/seven", timeout=5).text == "<p>fallback</p>"


def test_service_mapper_named_groups_reach_the_handler(served):
    from dispatch.websocket import (
        make_service_mapper_dispatcher,
        ws_connect,
        ws_recv,
        ws_send,
        ws_service_mapper,
    )

    def chat(c, room):
        ws_send(c, f"{room}:{ws_recv(c)}")

    def plain(c):
        ws_send(c, "plain")

    base = served(make_service_mapper_dispatcher(ws_service_mapper(
        ("^/chat/(?P<room>[a-z]+)", ([None], chat)), ("^/(plain|other)", ([None], plain)))))
    ws = base.replace("http://", "ws://")
    c = ws_connect(ws + "/chat/lobby")
    ws_send(c, "hi")
    assert ws_recv(c) == "lobby:hi"
    assert ws_recv(ws_connect(ws + "/plain")) == "plain"  # unnamed groups: no arguments



def _echo(req, *args):
    return list(args)


_ROUND_TRIP, _ROUND_TRIP_URL = dispatch_rules(
    (("s", string_arg()), _echo),
    (("i", integer_arg(), ...), _echo),
    (("r", real_arg()), _echo))
_ROUND_TRIP_CLIENT = Client(dispatch_servlet(lambda req: response_jsexpr(_ROUND_TRIP(req))))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_string_arguments_round_trip(text):
    # the test client passes the raw target, so even "/" stays inside its segment
    url = _ROUND_TRIP_URL(_echo, text)
    assert _ROUND_TRIP_CLIENT.get(url).json == [text]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(), max_size=5),
       st.floats(allow_nan=False, allow_infinity=True))
def test_number_arguments_round_trip(numbers, real):
    assert _ROUND_TRIP_CLIENT.get(_ROUND_TRIP_URL(_echo, numbers)).json == [numbers]
    if real == real and abs(real) != float("inf"):
        assert _ROUND_TRIP_CLIENT.get(_ROUND_TRIP_URL(_echo, real)).json == [real]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_path_is_matched_or_declined_never_an_error(path):
    response = _ROUND_TRIP_CLIENT.get("/" + path.replace("?", "").replace("#", ""))
    assert response.status_code in (200, 404)
