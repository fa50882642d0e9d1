"""Racket's ``tests/web-server/servlet/helpers-test.rkt``: ``redirect-to`` and
``redirection-status?``.

Not ported: the ``with-errors-to-browser`` suite (an escape-continuation helper this
project does not mirror: a servlet's exception is a logged 500 here).
"""
from __future__ import annotations

import pytest

from servlets import (
    permanently,
    redirect_to,
    redirection_status,
    see_other,
    temporarily,
    temporarily_same_method,
)


def dehead(response):
    """Racket's ``dehead``: the headers as (field, value) pairs, without the date this
    project adds (Racket's response carries it in the struct, not the headers)."""
    return [[name, value] for name, value in response.headers.items()
            if name != "Last-Modified"]


# (test-exn "Empty" exn:fail:contract? (lambda () (redirect-to "")))
def test_empty():
    with pytest.raises(ValueError):
        redirect_to("")


# "Code (temp)" and "Message (temp)"
def test_code_and_message_temporarily():
    response = redirect_to("http://test.com/foo")
    assert response.status_code == 302
    assert response.status == "302 Found"


# "Code" and "Message"
def test_code_and_message_permanently():
    response = redirect_to("http://test.com/foo", permanently)
    assert response.status_code == 301
    assert response.status == "301 Moved Permanently"


# "URL"
def test_url():
    assert dehead(redirect_to("http://test.com/foo")) == [["Location", "http://test.com/foo"]]


# "Headers"
def test_headers():
    response = redirect_to("http://test.com/foo", headers=[(b"Header", b"Value")])
    assert dehead(response) == [["Location", "http://test.com/foo"], ["Header", "Value"]]


# redirection-status?: permanently, temporarily, see-other
@pytest.mark.parametrize("status", [permanently, temporarily, see_other])
def test_redirection_status(status):
    assert redirection_status(status)


def test_temporarily_same_method_is_307_and_others_are_refused():
    assert redirect_to("/x", temporarily_same_method).status == "307 Temporary Redirect"
    assert redirect_to("/x", see_other).status == "303 See Other"
    assert not redirection_status(200)
    with pytest.raises(ValueError, match="perm_temp"):
        redirect_to("/x", 200)
