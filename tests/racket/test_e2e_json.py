"""Port of web-server-test/tests/web-server/e2e/json: a JSON API over ``dispatch-rules``
(here filter + method + servlets) with ``#:max-request-body-length 255``."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from dispatch import filter, method, sequencer
from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output


def response_json(e, code: int = 200):
    return response_output(lambda out: out.write(json.dumps(e)), code=code,
                           mime_type="application/json; charset=utf-8")


@pytest.fixture
def books_url(served, caplog):
    caplog.set_level(logging.CRITICAL, logger="dispatch")  # the invalid-JSON case's traceback
    books: list = []

    def all_books(request):
        return response_json([{"title": t, "author": a} for t, a in books])

    def add_book(request):
        data = json.loads(request.post_data)
        title, author = data.get("title"), data.get("author")
        if title and author:
            books.insert(0, (title, author))
            return response_json({})
        return response_json({"error": "missing title or author (or both!)"}, code=400)

    base = served(sequencer.make(
        filter.make("^/books$", method.make("post", dispatch_servlet(add_book))),
        filter.make("^/books$", dispatch_servlet(all_books))),
        safety_limits=make_safety_limits(max_request_body_length=255))
    return base + "/books"


def test_json(books_url):
    assert requests.get(books_url, timeout=5).json() == []  # no books
    # adding a valid book
    added = requests.post(books_url, data=json.dumps({"title": "Mechanica", "author": "Euler"}),
                          timeout=5)
    assert added.status_code == 200
    assert requests.get(books_url, timeout=5).json() == [{"title": "Mechanica",
                                                          "author": "Euler"}]
    # adding an invalid book
    invalid = requests.post(books_url, data=json.dumps({"title": "Mechanica"}), timeout=5)
    assert invalid.status_code == 400 and "Bad Request" in invalid.reason
    assert requests.get(books_url, timeout=5).json() == [{"title": "Mechanica",
                                                          "author": "Euler"}]
    # sending invalid JSON
    assert requests.post(books_url, data=b"invalid", timeout=5).status_code == 500


def test_sending_too_much_data(books_url):
    """Racket: the connection ends early; here 413 (then close) or the close alone."""
    try:
        response = requests.post(books_url, data=bytes(512), timeout=5)
    except requests.ConnectionError:
        return
    assert response.status_code == 413
