"""The dispatcher contract and to_wsgi, driven without a socket."""
import logging

import pytest
from werkzeug.exceptions import Forbidden

from dispatch import DispatcherNotApplicable, next_dispatcher, sequencer
from dispatch.testing import Client, declines, run_dispatcher
from servlets import dispatch_servlet, response_full


def answer(text):
    def dispatcher(conn, request):
        conn.respond(response_full(200, None, None, "text/plain", [], [text.encode()]))
    return dispatcher


def decline(conn, request):
    next_dispatcher()


def test_next_dispatcher_raises_the_one_exception():
    with pytest.raises(DispatcherNotApplicable):
        next_dispatcher()


def test_declined_everywhere_is_a_plain_404():
    response = Client(sequencer.make(decline, decline)).get("/anything")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_an_answer_is_served():
    response = Client(answer("hi")).get("/")
    assert (response.status_code, response.data) == (200, b"hi")


def test_exception_in_a_dispatcher_is_a_logged_500(caplog):
    def broken(conn, request):
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR, logger="dispatch"):
        response = Client(broken).get("/x")
    assert response.status_code == 500
    assert b"boom" not in response.data  # the traceback goes to the log, not the client
    assert any("KeyError" in (r.exc_text or "") for r in caplog.records)


def test_werkzeug_http_exceptions_become_their_response():
    def forbidden(conn, request):
        raise Forbidden()

    assert Client(forbidden).get("/").status_code == 403


def test_returning_without_answering_is_a_500():
    assert Client(lambda conn, request: None).get("/").status_code == 500


def test_answering_twice_is_an_error():
    def twice(conn, request):
        answer("a")(conn, request)
        answer("b")(conn, request)

    assert Client(twice).get("/").status_code == 500


def test_declines_and_run_dispatcher_helpers():
    assert declines(decline)
    assert not declines(answer("x"))
    conn = run_dispatcher(answer("x"), "/p")
    assert conn.response is not None and conn.upgraded is None


def test_servlet_may_return_a_werkzeug_response():
    from werkzeug.wrappers import Response

    client = Client(dispatch_servlet(lambda request: Response("plain werkzeug", status=201)))
    response = client.get("/")
    assert (response.status_code, response.data) == (201, b"plain werkzeug")


def test_an_answer_that_is_not_a_wsgi_app_is_one_logged_500(caplog):
    def answers_text(conn, request):
        conn.respond("<p>hi</p>")

    with caplog.at_level(logging.ERROR, logger="dispatch"):
        response = Client(answers_text).get("/page")
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "/page" in errors[0].getMessage() and "str '<p>hi</p>'" in errors[0].getMessage()
