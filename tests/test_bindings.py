"""Bindings: query, form and file bindings; a missing or repeated binding is a clear
error the servlet can catch, and a 400 when it does not."""
import io

import pytest
import requests

from dispatch.testing import Client
from servlets import (
    BindingError,
    BindingFile,
    BindingForm,
    bindings_assq,
    bindings_assq_all,
    dispatch_servlet,
    exists_binding,
    extract_binding_single,
    extract_bindings,
    request_bindings,
    request_bindings_raw,
    response_jsexpr,
    response_xexpr,
)


def get_number(req):  # the example of Racket's documentation
    return float(extract_binding_single("number", request_bindings(req)))


def start(req):
    return response_jsexpr({"number": get_number(req)})


def test_extract_binding_single_over_a_socket(served):
    base = served(dispatch_servlet(start))
    assert requests.get(base + "/?number=4.5", timeout=5).json() == {"number": 4.5}
    assert requests.post(base + "/", data={"number": "2"}, timeout=5).json() == {"number": 2.0}


@pytest.mark.parametrize("query", ["", "?other=1", "?number=1&number=2"])
def test_missing_or_repeated_binding_is_a_400_not_a_500(served, query):
    base = served(dispatch_servlet(start))
    response = requests.get(base + "/" + query, timeout=5)
    assert response.status_code == 400
    assert "number" in response.text and "Traceback" not in response.text


def test_the_servlet_can_catch_it():
    def forgiving(req):
        try:
            return response_jsexpr(get_number(req))
        except BindingError as error:
            return response_xexpr(("p", str(error.description)), code=422)

    client = Client(dispatch_servlet(forgiving))
    response = client.get("/?number=1&number=2")
    assert response.status_code == 422
    assert b"'number' occurs 2 times" in response.data
    assert issubclass(BindingError, LookupError)


def test_bindings_lists_and_names():
    binds = [("a", "1"), ("b", "2"), ("a", "3")]
    assert extract_bindings("a", binds) == ["1", "3"]
    assert extract_bindings(b"b", binds) == ["2"]
    assert extract_bindings("c", binds) == []
    assert exists_binding("b", binds) and not exists_binding("c", binds)
    with pytest.raises(BindingError, match="'c' is missing"):
        extract_binding_single("c", binds)


def test_query_form_and_files_with_raw_bindings():
    seen = {}

    def upload(req):
        seen["raw"] = request_bindings_raw(req)
        seen["cooked"] = request_bindings(req)
        return response_jsexpr("ok")

    client = Client(dispatch_servlet(upload))
    client.post("/?q=1", data={"Title": "Hi", "tag": ["x", "y"],
                               "doc": (io.BytesIO(b"file body"), "notes.txt", "text/plain")})
    raw = seen["raw"]
    assert raw[0] == BindingForm("q", "1")
    assert bindings_assq("Title", raw) == BindingForm("Title", "Hi")
    assert [b.value for b in bindings_assq_all("tag", raw)] == ["x", "y"]
    assert bindings_assq("nothing", raw) is None
    doc = bindings_assq("doc", raw)
    assert isinstance(doc, BindingFile)
    assert (doc.filename, doc.content) == ("notes.txt", b"file body")
    assert ("Content-Type", "text/plain") in doc.headers
    cooked = seen["cooked"]
    assert ("title", "Hi") in cooked  # lower-cased names, as Racket's request-bindings
    assert extract_binding_single("doc", cooked).content == b"file body"


def test_get_requests_have_only_query_bindings():
    def show(req):
        return response_jsexpr(request_bindings(req))

    assert Client(dispatch_servlet(show)).get("/?a=1&a=2&b=").json == [
        ["a", "1"], ["a", "2"], ["b", ""]]


def test_a_query_key_without_a_value_is_no_binding_as_in_racket():
    from dispatch.testing import Client
    from servlets import dispatch_servlet, request_bindings, response_jsexpr

    client = Client(dispatch_servlet(lambda req: response_jsexpr(request_bindings(req))))
    assert client.get("/?a&b=1&c=").json == [["b", "1"], ["c", ""]]
