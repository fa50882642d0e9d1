"""servlets: requests, response constructors, x-expressions and dispatch_servlet."""
import json

import pytest
import requests

from dispatch.testing import Client, declines
from servlets import (
    CData,
    dispatch_servlet,
    redirect_to,
    response_empty,
    response_full,
    response_jsexpr,
    response_output,
    response_xexpr,
    xexpr_to_string,
)


def test_xexpr_text_and_attributes_are_escaped():
    html = xexpr_to_string(("p", [("title", 'a "b" <c> & d')], "x < y & z > w"))
    assert html == '<p title="a &quot;b&quot; &lt;c&gt; &amp; d">x &lt; y &amp; z &gt; w</p>'


def test_xexpr_attribute_list_like_racket():
    assert xexpr_to_string(("textarea", [("readonly", "")])) == '<textarea readonly=""></textarea>'
    assert xexpr_to_string(("p", {"class": "c"}, "t")) == '<p class="c">t</p>'


def test_xexpr_void_elements_entities_and_cdata():
    assert xexpr_to_string(("br",)) == "<br />"
    assert xexpr_to_string(("p", 169, CData("<b>raw</b>"))) == "<p>&#169;<b>raw</b></p>"


def test_xexpr_children_that_look_like_elements_are_elements():
    html = xexpr_to_string(("ul", ("li", "a"), ["li", "b"]))
    assert html == "<ul><li>a</li><li>b</li></ul>"


def test_xexpr_script_body_is_not_escaped_but_cannot_close_early():
    html = xexpr_to_string(("script", 'if (a < b && c > "d") x("</script>");'))
    assert html == '<script>if (a < b && c > "d") x("<\\/script>");</script>'


@pytest.mark.parametrize("bad", [("bad tag",), ("p", [("on click", "x")]), ("p", None), True])
def test_xexpr_rejects_what_is_not_an_xexpr(bad):
    with pytest.raises((TypeError, ValueError)):
        xexpr_to_string(bad)


def test_response_xexpr_defaults():
    response = Client(dispatch_servlet(lambda r: response_xexpr(("p", "hi")))).get("/")
    assert response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.data == b"<p>hi</p>"


def test_response_full_every_part():
    resp = response_full(418, "Short and stout", 0, "text/plain", [("X-A", "1")], [b"a", b"b"])
    response = Client(dispatch_servlet(lambda r: resp)).get("/")
    assert response.status == "418 Short and stout"
    assert response.headers["X-A"] == "1"
    assert response.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert response.data == b"ab"


def test_response_jsexpr():
    response = Client(dispatch_servlet(lambda r: response_jsexpr({"a": [1, None, "é"]}))).get("/")
    assert response.mimetype == "application/json"
    assert json.loads(response.data) == {"a": [1, None, "é"]}


def test_response_empty_and_redirect():
    client = Client(dispatch_servlet(lambda r: response_empty()))
    empty = client.get("/")
    assert (empty.status_code, empty.data, empty.headers.get("Content-Type")) == (204, b"", None)
    redirect = Client(dispatch_servlet(lambda r: redirect_to("/elsewhere"))).get("/")
    # Racket: redirect-to defaults to temporarily (302)
    assert (redirect.status_code, redirect.headers["Location"]) == (302, "/elsewhere")


def test_servlet_regexp_declines_other_paths():
    servlet = dispatch_servlet(lambda r: response_empty(), regexp="^/app")
    assert declines(servlet, "/other")
    assert not declines(servlet, "/app/x")


def test_request_accessors():
    seen = {}

    def start(request):
        seen.update(method=request.method, path=request.path, bindings=request.bindings.to_dict(),
                    body=request.post_data, client=request.client_ip, uri=request.uri)
        return response_empty()

    Client(dispatch_servlet(start)).post("/f?q=1", data={"name": "x"},
                                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert seen["method"] == "POST" and seen["path"] == "/f"
    assert seen["bindings"] == {"q": "1", "name": "x"}
    assert seen["body"] == b""  # a form body is parsed into bindings
    assert seen["client"] == "10.1.2.3"
    assert seen["uri"].endswith("/f?q=1")


def test_request_body_over_the_limit_is_413():
    client = Client(dispatch_servlet(lambda r: response_full(200, None, None, "text/plain", [],
                                                             [b"%d" % len(r.post_data)])))
    assert client.post("/", data=b"x" * 1000).data == b"1000"
    assert client.post("/", data=b"x" * (1024 * 1024 + 1)).status_code == 413


def test_response_output_streams_over_a_real_socket(served):
    parts = [b"first,", "second,", b"third"]

    def writer(out):
        for part in parts:
            out.write(part)

    base = served(dispatch_servlet(lambda r: response_output(writer, mime_type="text/plain")))
    with requests.get(base + "/", stream=True, timeout=5) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.raw.read() == b"first,second,third"
    head = requests.head(base + "/", timeout=5)
    assert (head.status_code, head.content) == (200, b"")


def test_request_host_and_client_addresses_over_a_real_socket(served):
    def start(request):
        return response_jsexpr([request.client_ip, request.host_ip, request.host_port])

    base = served(dispatch_servlet(start))
    client_ip, host_ip, host_port = requests.get(base, timeout=5).json()
    assert (client_ip, host_ip) == ("127.0.0.1", "127.0.0.1")
    assert host_port == int(base.rsplit(":", 1)[1])
