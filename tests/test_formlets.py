"""Formlets (servlets.formlets): rendering, processing, and use in stateful servlets
over real sockets.  Racket's own test cases are ported in tests/racket/test_formlets.py."""
from __future__ import annotations

import html
import re

import pytest
import requests
from werkzeug.test import EnvironBuilder

from servlets import response_xexpr, xexpr_to_string
from servlets.formlets import (
    Binding,
    BindingFile,
    FormletError,
    checkbox,
    embed_formlet,
    file_upload,
    forest,
    formlet,
    formlet_display,
    formlet_process,
    formlet_star,
    input_int,
    input_string,
    radio_group,
    required,
    select_input,
    send_formlet,
    star,
    text_input,
    textarea_input,
    to_boolean,
    to_number,
    to_string,
)
from servlets.request import Request
from servlets.stateful import make
from servlets.web import redirect_get, send_suspend_dispatch


def post(fields=None, files=None) -> Request:
    data = dict(fields or {})
    data.update(files or {})
    return Request(EnvironBuilder(method="POST", data=data).get_environ())


new_post_formlet = formlet(forest(input_string, input_string), lambda title, body: (title, body))


def test_display_renders_with_racket_names():
    assert xexpr_to_string(("form", *formlet_display(new_post_formlet))) == (
        '<form><input name="input_0" type="text" /><input name="input_1" type="text" /></form>')


def test_process_from_a_posted_form():
    assert formlet_process(new_post_formlet, post({"input_0": "Hi", "input_1": "Body é"})) == \
        ("Hi", "Body é")


def test_required_missing_is_a_400_with_a_clear_message():
    with pytest.raises(FormletError) as e:
        formlet_process(new_post_formlet, post({"input_0": "only the title"}))
    assert e.value.code == 400 and "Missing required field" in str(e.value)


def test_bad_selection_is_a_400_not_an_index_error():
    f = select_input(["a", "b"])
    with pytest.raises(FormletError):
        formlet_process(f, [Binding(b"input_0", b"7")])
    with pytest.raises(FormletError):
        formlet_process(radio_group(["a"]), [Binding(b"input_0", b"x")])
    with pytest.raises(FormletError):
        formlet_process(radio_group(["a"]), [])


def test_numbers_checkbox_and_defaults():
    assert formlet_process(input_int, [Binding(b"input_0", b" 42 ")]) == 42
    assert formlet_process(input_int, [Binding(b"input_0", b"2.5")]) == 2.5
    assert formlet_process(input_int, [Binding(b"input_0", b"abc")]) is None   # Racket's #f
    assert formlet_process(input_int, [Binding(b"input_0", b"nan")]) is None
    assert formlet_process(to_boolean(required(checkbox("on", False))),
                           [Binding(b"input_0", b"on")]) is True
    assert formlet_process(to_number(to_string(required(text_input()))),
                           [Binding(b"input_0", b"-7")]) == -7


def test_file_upload_binding():
    from io import BytesIO
    request = post(files={"input_0": (BytesIO(b"content"), "a.txt")})
    binding = formlet_process(file_upload(), request)
    assert isinstance(binding, BindingFile)
    assert (binding.filename, binding.value) == (b"a.txt", b"content")


def test_escaping_of_values():
    forest_ = formlet_display(textarea_input(value="</textarea><script>"))
    assert "<script>" not in xexpr_to_string(forest_[0])


def test_templates_reject_misplaced_formlets():
    with pytest.raises(TypeError):
        formlet_display(formlet(("p", star(input_string, "x")), lambda: None))
    with pytest.raises(TypeError):
        formlet_display(formlet_star(("p", input_string), lambda: None))


def test_formlet_star_with_attributes_and_missing_names():
    f = formlet_star(("div", {"class": "names"}, *[("p", star(input_string, "name"))
                                                   for _ in range(2)]),
                     lambda name, other: (name, other))
    assert formlet_display(f)[0][1] == [("class", "names")]
    assert formlet_process(f, [Binding(b"input_0", b"a"), Binding(b"input_1", b"b")]) == \
        (["a", "b"], [])


# -- in stateful servlets, over sockets ----------------------------------------------------

def action_of(page: str) -> str:
    return html.unescape(re.search(r'action="([^"]*)"', page).group(1))


def test_send_formlet_over_http(served):
    date = formlet(("div", "Month:", input_int, "Day:", input_int), lambda m, d: (m, d))

    def start(request):
        month, day = send_formlet(date)
        return response_xexpr(("p", f"{month}/{day}"))

    base = served(make(start))
    s = requests.Session()
    page = s.get(base + "/").text
    assert 'method="POST"' in page and 'name="input_1"' in page
    assert "<p>10/6</p>" in s.post(base + action_of(page),
                                   data={"input_0": "10", "input_1": "6"}).text


def test_missing_field_over_http_is_400_not_500(served):
    def start(request):
        return response_xexpr(("p", str(send_formlet(input_int))))

    base = served(make(start))
    r = requests.post(base + action_of(requests.get(base + "/").text), data={})
    assert r.status_code == 400 and "Traceback" not in r.text


def test_embed_formlet_and_the_tutorials_insert_handler(served):
    """Iteration 11 of Racket's tutorial: formlet_process in a handler, then
    POST-redirect-GET; and embed_formlet, whose value returns from send_suspend_dispatch."""
    posts = []

    def start(request):
        return render(request)

    def render(request):
        def response_generator(embed_url):
            return response_xexpr(("html", ("body",
                                            ("ul", *[("li", t + ": " + b) for t, b in posts]),
                                            ("form", [("action", embed_url(insert)),
                                                      ("method", "post")],
                                             *formlet_display(new_post_formlet)),
                                            embed_formlet(embed_url, input_string))))

        def insert(request):
            title, body = formlet_process(new_post_formlet, request)
            posts.append((title, body))
            return render(redirect_get())

        value = send_suspend_dispatch(response_generator)
        return response_xexpr(("p", "embedded: " + value))

    base = served(make(start))
    s = requests.Session()
    page = s.get(base + "/").text
    insert_url, embedded_url = [html.unescape(u) for u in re.findall(r'action="([^"]*)"', page)]
    r = s.post(base + insert_url, data={"input_0": "T", "input_1": "B"})
    assert r.history and "<li>T: B</li>" in r.text and posts == [("T", "B")]
    # embed_formlet's form is a GET form: the continuation marker is in the path
    page2 = r.text
    embedded_url = [html.unescape(u) for u in re.findall(r'action="([^"]*)"', page2)][1]
    assert "embedded: hello" in s.get(base + embedded_url, params={"input_0": "hello"}).text
