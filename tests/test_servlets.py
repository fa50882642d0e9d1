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


def test_xexpr_attribute_names_are_compared_whole():
    class Name(str):
        pass

    # A name that contains the next one is not the same name (a str subclass once went
    # through a substring test), and a repeat is found also past the second attribute.
    html = xexpr_to_string(("p", [(Name("data-ab"), "1"), ("data-a", "2"), ("b", "3")]))
    assert html == '<p data-ab="1" data-a="2" b="3"></p>'
    with pytest.raises(ValueError, match="twice"):
        xexpr_to_string(("p", [("a", "1"), ("b", "2"), ("a", "3")]))


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


# --- fail fast: mistakes raise at the call, in the caller's frame --------------------

@pytest.mark.parametrize("call, kind, words", [
    (lambda: response_full("200", None, None, "text/plain", [], [b"x"]), TypeError, "code"),
    (lambda: response_full(True, None, None, "text/plain", [], [b"x"]), TypeError, "code"),
    (lambda: response_full(0, None, None, "text/plain", [], [b"x"]), ValueError, "100 to 599"),
    (lambda: response_full(600, None, None, "text/plain", [], [b"x"]), ValueError, "599"),
    # the issue's own: arguments in Racket's order but shifted
    (lambda: response_full("text/plain", "OK", None, 200, [], [b"x"]), TypeError, "code"),
    (lambda: response_full(200, 7, None, "text/plain", [], [b"x"]), TypeError, "message"),
    (lambda: response_full(200, "a\r\nb", None, "text/plain", [], [b"x"]), ValueError, "CR"),
    (lambda: response_full(200, None, None, 5, [], [b"x"]), TypeError, "mime_type"),
    (lambda: response_full(200, None, "now", "text/plain", [], [b"x"]), TypeError, "seconds"),
    (lambda: response_full(200, None, None, "text/plain", [("X-A",)], [b"x"]), TypeError,
     "pair"),
    (lambda: response_full(200, None, None, "text/plain", [("X A", "1")], [b"x"]), ValueError,
     "token"),
    (lambda: response_full(200, None, None, "text/plain", [("X-A", 1)], [b"x"]), TypeError,
     "'X-A'"),
    (lambda: response_full(200, None, None, "text/plain", [("X-A", "1\n")], [b"x"]),
     ValueError, "CR"),
    (lambda: response_full(200, None, None, "text/plain", [("X-A", "€")], [b"x"]),
     ValueError, "bytes"),
    (lambda: response_full(200, None, None, "text/plain", "X-A: 1", [b"x"]), TypeError,
     "pairs"),
    (lambda: response_full(200, None, None, "text/plain", [], b"x"), TypeError, "list"),
    (lambda: response_full(200, None, None, "text/plain", [], [1]), TypeError, "bytes"),
    (lambda: response_output("not a writer"), TypeError, "writer"),
    (lambda: response_xexpr(("p",), code=99), ValueError, "response_xexpr"),
    (lambda: response_jsexpr({1, 2}), TypeError, "response_jsexpr"),
    (lambda: response_empty(headers={"X-A": None}), TypeError, "response_empty"),
    (lambda: redirect_to(""), ValueError, "non-empty"),
    (lambda: redirect_to(None), TypeError, "uri"),
    (lambda: redirect_to("/x", 200), ValueError, "perm_temp"),
    (lambda: dispatch_servlet("not a servlet"), TypeError, "start"),
    (lambda: dispatch_servlet(lambda r: None, regexp=5), TypeError, "regexp"),
])
def test_constructors_refuse_mistakes_at_the_call(call, kind, words):
    with pytest.raises(kind, match=words):
        call()


def test_racket_style_bytes_go_on_the_wire_as_text(served):
    response = response_full(200, b"OK", None, b"text/plain", [(b"X-Racket", b"yes")], [b"x"])
    base = served(dispatch_servlet(lambda r: response))
    answer = requests.get(base, timeout=5)
    assert (answer.status_code, answer.reason) == (200, "OK")
    assert answer.headers["Content-Type"] == "text/plain"
    assert answer.headers["X-Racket"] == "yes"
    assert "b'" not in str(answer.headers)


def test_mime_type_none_sends_no_content_type_and_headers_win():
    assert "Content-Type" not in response_full(200, None, None, None, [], [b"x"]).headers
    response = response_full(200, None, None, "text/plain", [("content-type", "text/csv")], [])
    assert response.headers.getlist("Content-Type") == ["text/csv"]


def test_last_modified_defaults_to_now_except_for_response_full():
    for response in (response_xexpr(("p",)), response_jsexpr(1), response_empty(),
                     response_output(lambda out: None), redirect_to("/x")):
        assert "Last-Modified" in response.headers
    assert "Last-Modified" not in response_full(200, None, None, None, [], []).headers


@pytest.mark.parametrize("returned, shown", [
    ("<p>hi</p>", "str '<p>hi</p>'"),
    ({"a": 1}, "dict {'a': 1}"),
    ((b"x",), "tuple (b'x',)"),
    (None, "NoneType None"),
])
def test_a_servlet_returning_no_response_is_one_logged_500(served, caplog, returned, shown):
    def my_servlet(request):
        return returned

    base = served(dispatch_servlet(my_servlet))
    with caplog.at_level("ERROR", logger="dispatch"):
        answer = requests.get(base + "/page", timeout=5)
    assert answer.status_code == 500
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is None
    message = errors[0].getMessage()
    assert "test_servlets" in message and "my_servlet" in message and shown in message


def test_bytes_regexes_in_dispatch_servlet():
    servlet = dispatch_servlet(lambda r: response_empty(), regexp=rb"^/api/")
    assert not declines(servlet, "/api/x")
    assert declines(servlet, "/other")
    # matched against the path's UTF-8 bytes, as Racket's byte regexps
    assert not declines(dispatch_servlet(lambda r: response_empty(), regexp="é".encode()),
                        "/caf%C3%A9")


def test_bytes_regexes_in_ws_service_mapper():
    from dispatch.websocket import ws_service_mapper

    def handler(c):
        return None

    mapper = ws_service_mapper((rb"^/ws_t.st", ([None], handler)),
                               (rb"^/chat/(?P<room>[^/]+)", ([None], handler)))
    assert mapper("/ws_test", []) == (None, handler)
    assert mapper("/other", []) is None
    # named groups of a bytes regex reach the handler as str, as a str regex's do
    assert mapper.match("/chat/caf\u00e9", []) == (None, handler, {"room": "caf\u00e9"})
    with pytest.raises(TypeError, match="bytes regex"):
        ws_service_mapper((5, ([None], handler)))


def test_bindings_omit_a_key_without_a_value_and_keep_double_slashes(served):
    def start(request):
        return response_jsexpr({"bindings": list(request.bindings.items(multi=True)),
                                "args": list(request.args.items(multi=True)),
                                "path": request.path})

    base = served(dispatch_servlet(start))
    host, port = base.rsplit("/", 1)[1].split(":")
    import socket
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET //foo/bar?a&b=1&c= HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    seen = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert seen["bindings"] == [["b", "1"], ["c", ""]]  # Racket: ?a is no binding
    assert seen["args"] == [["a", ""], ["b", "1"], ["c", ""]]  # werkzeug's, unchanged
    assert seen["path"] == "//foo/bar"


@pytest.mark.parametrize("limits, files, fields, status", [
    ({"max_form_data_files": 1}, {"f": b"x", "g": b"y"}, {}, 413),
    ({"max_form_data_fields": 1}, {}, {"a": "1", "b": "2"}, 413),
    ({"max_form_data_parts": 2}, {"f": b"x"}, {"a": "1", "b": "2"}, 413),
    ({"max_form_data_field_length": 4}, {}, {"a": "12345"}, 413),
    ({"max_form_data_file_length": 4}, {"f": b"12345"}, {}, 413),
    ({"max_form_data_header_length": 20}, {"f": b"x"}, {}, 413),
    # Racket bounds multipart bodies by the form-data limits, not max_request_body_length
    ({}, {"f": b"x" * (2 * 1024 * 1024)}, {"a": "1"}, 200),
    ({"max_form_data_files": None}, {f"f{i}": b"x" for i in range(120)}, {}, 200),
])
def test_form_data_limits(served, limits, files, fields, status):
    from dispatch.safety_limits import make_safety_limits

    def start(request):
        return response_jsexpr([len(request.files), len(request.form)])

    base = served(dispatch_servlet(start), safety_limits=make_safety_limits(**limits))
    parts = {k: ("name", v) for k, v in files.items()}
    parts.update((k, (None, v)) for k, v in fields.items())  # fields, multipart-encoded
    answer = requests.post(base, files=parts, timeout=10)
    assert answer.status_code == status
    if status == 200:
        assert answer.json() == [len(files), len(fields)]
