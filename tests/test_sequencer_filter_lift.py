"""dispatch.sequencer, dispatch.filter and dispatch.lift, alone and over a real socket."""
import requests

from dispatch import filter, lift, next_dispatcher, sequencer
from dispatch.testing import Client, declines
from servlets import response_full


def text(body, code=200):
    return response_full(code, None, None, "text/plain", [], [body.encode()])


def named(name):
    def dispatcher(conn, request):
        conn.respond(text(name))
    return dispatcher


def test_sequencer_tries_in_order_and_stops_at_the_first_answer():
    tried = []

    def spy(name, answers):
        def dispatcher(conn, request):
            tried.append(name)
            if not answers:
                next_dispatcher()
            conn.respond(text(name))
        return dispatcher

    client = Client(sequencer.make(spy("a", False), spy("b", True), spy("c", True)))
    assert client.get("/").data == b"b"
    assert tried == ["a", "b"]


def test_sequencer_declines_when_all_decline_and_when_empty():
    assert declines(sequencer.make())
    assert declines(sequencer.make(filter.make("^/x", named("x"))), "/y")


def test_nested_sequencers():
    inner = sequencer.make(filter.make("^/a", named("a")), filter.make("^/b", named("b")))
    client = Client(sequencer.make(inner, named("fallback")))
    assert [client.get(p).data for p in ("/a", "/b", "/c")] == [b"a", b"b", b"fallback"]


def test_filter_searches_the_path_like_regexp_match():
    f = filter.make("sse", named("sse"))  # unanchored: found anywhere, as in Racket
    assert not declines(f, "/x/sse/y")
    assert declines(f, "/x/y")
    anchored = filter.make("^/sse/", named("sse"))
    assert not declines(anchored, "/sse/")
    assert declines(anchored, "/x/sse/")


def test_filter_matches_the_path_not_the_query_string():
    f = filter.make("^/page$", named("page"))
    assert not declines(f, "/page", query_string="x=/other")
    assert declines(f, "/other", query_string="p=/page")


def test_filter_sees_the_decoded_path():
    assert not declines(filter.make("^/a b$", named("ab")), "/a%20b")


def test_lift_answers_with_the_procedure_result():
    client = Client(lift.make(lambda request: text(request.path + "!")))
    assert client.get("/hello").data == b"/hello!"


def test_composition_over_a_real_socket(served):
    app = sequencer.make(filter.make("^/one", named("one")),
                         filter.make("^/two", lift.make(lambda r: text("two", 201))))
    base = served(app)
    with requests.Session() as s:  # one keep-alive connection for the three requests
        one, two, missing = (s.get(base + p, timeout=5) for p in ("/one", "/two", "/three"))
    assert (one.status_code, one.text) == (200, "one")
    assert (two.status_code, two.text) == (201, "two")
    assert missing.status_code == 404


def test_filter_matches_the_path_without_its_parameters_as_racket():
    from dispatch.testing import declines

    inner = lift.make(lambda request: None)
    assert not declines(filter.make("^/servlets/app$", inner), "/servlets/app;k=abc")
    assert not declines(filter.make("^/a/b$", inner), "/a;x=1/b")
    assert declines(filter.make("^/a/b$", inner), "/a/c;b")


def test_a_sequencer_tests_filters_without_calling_them_and_keeps_their_order():
    calls = []

    def spy(name):
        def dispatcher(conn, request):
            calls.append(name)
            if name == "declines":
                next_dispatcher()
            conn.respond(text(name))
        return dispatcher

    app = sequencer.make(filter.make("^/a", spy("a")), filter.make("^/b", spy("declines")),
                         spy("plain"), filter.make("^/b", spy("b")))
    client = Client(app)
    assert client.get("/b/x").data == b"plain"
    assert calls == ["declines", "plain"]  # the /a filter was never called
    calls.clear()
    assert client.get("/b;k=v/x").data == b"plain"  # path parameters left out, as in Racket
    assert calls == ["declines", "plain"]


def test_a_filter_inside_a_sequencer_declines_without_raising(monkeypatch):
    import dispatch.core

    raised = []
    original = dispatch.core.next_dispatcher

    def counting():
        raised.append(True)
        original()

    monkeypatch.setattr(filter, "next_dispatcher", counting)
    app = sequencer.make(*(filter.make(f"^/x{i}$", named("x")) for i in range(8)),
                         named("last"))
    assert Client(app).get("/").data == b"last"
    assert raised == []
    assert declines(filter.make("^/x$", named("x")), "/y") and raised == [True]


def test_a_body_read_by_a_declining_filtered_dispatcher_is_given_again():
    def reads_then_declines(conn, request):
        assert request.get_data() == b"payload"
        next_dispatcher()

    def echo(conn, request):
        conn.respond(text(request.get_data().decode()))

    app = sequencer.make(filter.make("^/p", reads_then_declines), filter.make("^/p", echo))
    assert Client(app).post("/p", data=b"payload").data == b"payload"
