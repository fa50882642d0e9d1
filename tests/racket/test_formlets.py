"""Port of Racket's ``web-server-test/tests/web-server/formlets-test.rkt`` and
``formlets/formlet-star.rkt``: the same inputs and expected outputs, Racket's
x-expressions written as this project's tuples (``(p ([id "p"]) "Hey")`` is
``("p", [("id", "p")], "Hey")``).  Of ``formlets/stateless.rkt``, the two servlets are
run here as stateful servlets; its serialization suite (for Racket's stateless servlets)
has no counterpart.
"""
from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass

import pytest
import requests
from werkzeug.test import EnvironBuilder

from servlets import response_xexpr
from servlets.formlets import (
    Binding,
    FormletError,
    button,
    checkbox,
    checkbox_group,
    cross,
    cross_star,
    embed_formlet,
    file_upload,
    forest,
    formlet,
    formlet_display,
    formlet_process,
    formlet_star,
    hidden,
    img,
    input_int,
    input_string,
    make_input,
    make_input_star,
    multiselect_input,
    password_input,
    pure,
    radio,
    radio_group,
    required,
    reset,
    select_input,
    send_formlet,
    star,
    submit,
    tag_xexpr,
    text,
    text_input,
    textarea_input,
    to_boolean,
    to_number,
    to_string,
    to_symbol,
    xml,
    xml_forest,
)
from servlets.formlets import default as default_
from servlets.request import Request
from servlets.stateful import make
from servlets.web import send_suspend_dispatch


def run_formlet(f, i):
    return list(f(i))


def make_request(bindings):
    """Racket's ``(make-request #"GET" (string->url "http://test.com") ... (delay bs) ...)``."""
    query = [(b.id.decode(), b.value.decode()) for b in bindings]
    return Request(EnvironBuilder(method="GET", base_url="http://test.com",
                                  query_string=query).get_environ())


def B(name: bytes, value: bytes) -> Binding:  # make-binding:form
    return Binding(name, value)


def to_cons(b):
    return (b.id, b.value)


def process(f, bs):  # Racket: test-process
    return formlet_process(f, make_request(bs))


def display(f):
    return formlet_display(f)


def In(name, type, *more):  # (input ((name ...) (type ...) more ...))
    return ("input", [("name", name), ("type", type), *more])


# -- lib -------------------------------------------------------------------------------

def test_pure():
    assert run_formlet(pure(0), 0)[0] == []
    x = random.randrange(1000)
    assert run_formlet(pure(x), 0)[1]([]) == x
    assert run_formlet(pure(0), x)[2] == x


def test_xml_forest():
    assert formlet_display(xml_forest([])) == []
    assert formlet_display(xml_forest([("html", ("body", "Hey"))])) == [("html", ("body", "Hey"))]
    x = random.randrange(1000)
    assert run_formlet(xml_forest([]), 0)[1]([])(x) == x
    assert run_formlet(xml_forest([]), 0)[1]([B(b"name", b"value")])(x) == x
    assert run_formlet(xml_forest([]), x)[2] == x


def test_xml():
    assert formlet_display(xml(("html", ("body", "Hey")))) == [("html", ("body", "Hey"))]
    x = random.randrange(1000)
    assert run_formlet(xml(("html", ("body", "Hey"))), 0)[1]([])(x) == x
    assert run_formlet(xml(("html", ("body", "Hey"))), 0)[1]([B(b"name", b"value")])(x) == x
    assert run_formlet(xml(("html", ("body", "Hey"))), x)[2] == x


def test_text():
    assert formlet_display(text("Hey")) == ["Hey"]
    x = random.randrange(1000)
    assert run_formlet(text("Hey"), 0)[1]([])(x) == x
    assert run_formlet(text("Hey"), 0)[1]([B(b"name", b"value")])(x) == x
    assert run_formlet(text("Hey"), x)[2] == x


def test_tag_xexpr():
    f = tag_xexpr("p", [("id", "p")], text("Hey"))
    assert formlet_display(f) == [("p", [("id", "p")], "Hey")]
    x = random.randrange(1000)
    assert run_formlet(f, 0)[1]([])(x) == x
    assert run_formlet(f, 0)[1]([B(b"name", b"value")])(x) == x
    assert run_formlet(f, x)[2] == x


def test_cross():
    assert formlet_display(cross(text("One"), text("Two"))) == ["One", "Two"]
    x = random.randrange(1000)
    assert run_formlet(cross(text("One"), text("Two")), 0)[1]([])(x) == x
    assert run_formlet(cross(pure(int), pure("100")), 0)[1]([]) == 100
    assert run_formlet(cross(text("One"), text("Two")), x)[2] == x


def test_cross_star():
    assert formlet_display(cross_star(text("One"), text("Two"))) == ["One", "Two"]
    assert run_formlet(cross_star(pure(lambda *xs: int(*xs)), pure("100")), 0)[1]([]) == 100
    x = random.randrange(1000)
    assert run_formlet(cross_star(text("One"), text("Two")), x)[2] == x


# -- input -----------------------------------------------------------------------------

def test_make_input():
    assert to_cons(process(make_input(lambda n: n), [B(b"input_0", b"value")])) == \
        (b"input_0", b"value")
    assert process(make_input(lambda n: n), []) is None


def test_make_input_star():
    assert [to_cons(b) for b in process(make_input_star(lambda n: n),
                                             [B(b"input_0", b"value")])] == [(b"input_0", b"value")]
    two = [B(b"input_0", b"value0"), B(b"input_0", b"value1")]
    assert [to_cons(b) for b in process(make_input_star(lambda n: n), two)] == \
        [(b"input_0", b"value0"), (b"input_0", b"value1")]
    assert process(make_input_star(lambda n: n), []) == []


@pytest.mark.parametrize("make, kind", [(text_input, "text"), (password_input, "password")])
def test_text_and_password_input(make, kind):
    assert to_cons(process(make(), [B(b"input_0", b"value")])) == (b"input_0", b"value")
    assert display(make()) == [In("input_0", kind)]
    assert display(make(value=b"test")) == [In("input_0", kind, ("value", "test"))]
    assert display(make(size=20)) == [In("input_0", kind, ("size", "20"))]
    assert display(make(max_length=20)) == [In("input_0", kind, ("maxlength", "20"))]
    assert display(make(read_only=True)) == [In("input_0", kind, ("readonly", "true"))]
    assert display(make(read_only=False)) == [In("input_0", kind)]
    assert display(make(attributes=[("test", "Test")])) == [In("input_0", kind, ("test", "Test"))]


def test_textarea_input():
    assert process(textarea_input(), [B(b"input_0", b"value")]).value == b"value"
    assert display(textarea_input()) == [("textarea", [("name", "input_0")], "")]
    assert display(textarea_input(rows=80)) == \
        [("textarea", [("name", "input_0"), ("rows", "80")], "")]
    assert display(textarea_input(cols=80)) == \
        [("textarea", [("name", "input_0"), ("cols", "80")], "")]
    assert display(textarea_input(value=b"starting text", cols=80)) == \
        [("textarea", [("name", "input_0"), ("cols", "80")], "starting text")]
    assert display(textarea_input(cols=80, rows=70)) == \
        [("textarea", [("name", "input_0"), ("rows", "70"), ("cols", "80")], "")]
    assert display(textarea_input(rows=80, attributes=[("class", "awesome")])) == \
        [("textarea", [("name", "input_0"), ("rows", "80"), ("class", "awesome")], "")]
    assert display(textarea_input(cols=80, attributes=[("class", "awesome")])) == \
        [("textarea", [("name", "input_0"), ("cols", "80"), ("class", "awesome")], "")]
    assert display(textarea_input(cols=80, rows=70, attributes=[("class", "awesome")])) == \
        [("textarea", [("name", "input_0"), ("rows", "70"), ("cols", "80"),
                       ("class", "awesome")], "")]


@pytest.mark.parametrize("make, kind", [(checkbox, "checkbox"), (radio, "radio")])
def test_checkbox_and_radio(make, kind):
    assert to_cons(process(make(b"start", True), [B(b"input_0", b"value")])) == \
        (b"input_0", b"value")
    assert display(make(b"start", True)) == \
        [In("input_0", kind, ("value", "start"), ("checked", "true"))]
    assert display(make(b"start", False)) == [In("input_0", kind, ("value", "start"))]
    assert display(make(b"start", True, attributes=[("test", "Test")])) == \
        [In("input_0", kind, ("value", "start"), ("checked", "true"), ("test", "Test"))]


def test_radio_group():
    assert process(radio_group(["1", "2", "3"]), [B(b"input_0", b"0")]) == "1"
    assert process(radio_group([1, 2, 3], display=str), [B(b"input_0", b"0")]) == 1
    assert process(radio_group([1, 2, 3], display=str),
                        [B(b"input_0", b"0"), B(b"input_0", b"1")]) == 1
    assert display(radio_group([1, 2, 3], display=str, wrap=lambda i, d: [d, i],
                                    checked=lambda e: e % 2 == 0,
                                    attributes=lambda e: [("plus-one", str(e + 1))])) == [
        "1", In("input_0", "radio", ("value", "0"), ("plus-one", "2")),
        "2", In("input_0", "radio", ("value", "1"), ("checked", "true"), ("plus-one", "3")),
        "3", In("input_0", "radio", ("value", "2"), ("plus-one", "4"))]


def test_checkbox_group():
    assert process(checkbox_group(["1", "2", "3"]), [B(b"input_0", b"0")]) == ["1"]
    assert process(checkbox_group([1, 2, 3], display=str), [B(b"input_0", b"0")]) == [1]
    assert process(checkbox_group([1, 2, 3], display=str),
                        [B(b"input_0", b"0"), B(b"input_0", b"1")]) == [1, 2]
    assert display(checkbox_group([1, 2, 3], display=str, wrap=lambda i, d: [d, i],
                                       checked=lambda e: e % 2 == 0,
                                       attributes=lambda e: [("plus-one", str(e + 1))])) == [
        "1", In("input_0", "checkbox", ("value", "0"), ("plus-one", "2")),
        "2", In("input_0", "checkbox", ("value", "1"), ("checked", "true"), ("plus-one", "3")),
        "3", In("input_0", "checkbox", ("value", "2"), ("plus-one", "4"))]


@pytest.mark.parametrize("make, kind", [(submit, "submit"), (reset, "reset"), (hidden, "hidden")])
def test_submit_reset_hidden(make, kind):
    assert to_cons(process(make(b"start"), [B(b"input_0", b"value")])) == (b"input_0", b"value")
    assert display(make(b"start")) == [In("input_0", kind, ("value", "start"))]
    assert display(make(b"start", attributes=[("test", "Test")])) == \
        [In("input_0", kind, ("value", "start"), ("test", "Test"))]


def test_file_upload():
    assert to_cons(process(file_upload(), [B(b"input_0", b"value")])) == (b"input_0", b"value")
    assert display(file_upload()) == [In("input_0", "file")]
    assert display(file_upload(attributes=[("test", "Test")])) == \
        [In("input_0", "file", ("test", "Test"))]


def test_img():
    def IMG(*more):
        return ("img", [("name", "input_0"), ("src", "http://h.d.com/1"), ("alt", "pic"), *more])
    assert to_cons(process(img(b"start", b"a"), [B(b"input_0", b"value")])) == \
        (b"input_0", b"value")
    assert display(img(b"pic", b"http://h.d.com/1")) == [IMG()]
    assert display(img(b"pic", b"http://h.d.com/1", attributes=[("test", "Test")])) == \
        [IMG(("test", "Test"))]
    assert display(img(b"pic", b"http://h.d.com/1", height=12)) == [IMG(("height", "12"))]
    assert display(img(b"pic", b"http://h.d.com/1", longdesc=b"longer desc")) == \
        [IMG(("longdesc", "longer desc"))]
    assert display(img(b"pic", b"http://h.d.com/1", usemap=b"#map")) == [IMG(("usemap", "#map"))]
    assert display(img(b"pic", b"http://h.d.com/1", width=50)) == [IMG(("width", "50"))]
    assert display(img(b"pic", b"http://h.d.com/1", height=12, longdesc=b"longer desc",
                            usemap=b"#map", width=50)) == \
        [IMG(("height", "12"), ("longdesc", "longer desc"), ("usemap", "#map"), ("width", "50"))]


def test_button():
    def BT(*more):
        return ("button", [("name", "input_0"), ("type", "button"), *more], "click me")
    assert to_cons(process(button(b"start", b"a"), [B(b"input_0", b"value")])) == \
        (b"input_0", b"value")
    assert display(button(b"button", b"click me")) == [BT()]
    assert display(button(b"button", b"click me", attributes=[("test", "Test")])) == \
        [BT(("test", "Test"))]
    assert display(button(b"button", b"click me", disabled=True)) == [BT(("disabled", "true"))]
    assert display(button(b"button", b"click me", disabled=False)) == [BT()]
    assert display(button(b"button", b"click me", value=b"b1")) == [BT(("value", "b1"))]
    assert display(button(b"button", b"click me", disabled=True, value=b"b2")) == \
        [BT(("disabled", "true"), ("value", "b2"))]


def OPTIONS(*labels, selected=None):
    return [("option", [("value", str(n))] + ([("selected", "true")] if n == selected else []),
             label) for n, label in enumerate(labels)]


def test_multiselect_input():
    assert process(multiselect_input(["1", "2", "3"]), [B(b"input_0", b"0")]) == ["1"]
    assert process(multiselect_input(["1", "2", "3"]),
                        [B(b"input_0", b"0"), B(b"input_0", b"2")]) == ["1", "3"]
    assert process(multiselect_input(["1", "2", "3"]), []) == []
    multiple = [("multiple", "true"), ("name", "input_0")]
    assert display(multiselect_input(["1", "2", "3"])) == \
        [("select", multiple, *OPTIONS("1", "2", "3"))]
    assert display(multiselect_input(["1", "2", "3"], attributes=[("test", "val")])) == \
        [("select", multiple + [("test", "val")], *OPTIONS("1", "2", "3"))]
    assert display(multiselect_input(["1", "2", "3"], multiple=True)) == \
        [("select", multiple, *OPTIONS("1", "2", "3"))]
    assert display(multiselect_input(["1", "2", "3"], multiple=False)) == \
        [("select", [("name", "input_0")], *OPTIONS("1", "2", "3"))]
    assert display(multiselect_input(["1", "2", "3"], selected=lambda s: int(s) % 2 == 0)) == \
        [("select", multiple, *OPTIONS("1", "2", "3", selected=1))]
    assert display(multiselect_input([1, 2, 3], display=str)) == \
        [("select", multiple, *OPTIONS("1", "2", "3"))]
    assert display(multiselect_input(["xee", "john", "joe"],
                                          display=lambda s: f"something {s}")) == \
        [("select", multiple, *OPTIONS("something xee", "something john", "something joe"))]


def test_select_input():
    assert process(select_input(["1", "2", "3"]), [B(b"input_0", b"0")]) == "1"
    assert process(select_input(["1", "2", "3"]),
                        [B(b"input_0", b"0"), B(b"input_0", b"2")]) == "1"
    assert process(select_input(["1", "2", "3"]), []) is None
    name = [("name", "input_0")]
    assert display(select_input(["1", "2", "3"])) == [("select", name, *OPTIONS("1", "2", "3"))]
    assert display(select_input(["1", "2", "3"], attributes=[("test", "val")])) == \
        [("select", name + [("test", "val")], *OPTIONS("1", "2", "3"))]
    assert display(select_input(["1", "2", "3"], selected=lambda s: int(s) % 2 == 0)) == \
        [("select", name, *OPTIONS("1", "2", "3", selected=1))]
    assert display(select_input([1, 2, 3], display=str)) == \
        [("select", name, *OPTIONS("1", "2", "3"))]


def test_high_level():
    assert process(required(text_input()), [B(b"input_0", b"value")]) == b"value"
    with pytest.raises(FormletError):
        process(required(text_input()), [])
    assert process(default_(b"def", text_input()), [B(b"input_0", b"value")]) == b"value"
    assert process(default_(b"def", text_input()), []) == b"def"
    assert process(to_string(required(text_input())), [B(b"input_0", b"value")]) == "value"
    assert process(to_symbol(to_string(required(text_input()))),
                        [B(b"input_0", b"value")]) == "value"
    assert process(to_number(to_string(required(text_input()))),
                        [B(b"input_0", b"100")]) == 100
    assert process(to_boolean(required(text_input())), [B(b"input_0", b"on")]) is True
    assert process(to_boolean(required(text_input())), [B(b"input_0", b"off")]) is False


# -- Date: the formlet syntax ------------------------------------------------------------

@dataclass
class Date:
    month: int
    day: int


def date_to_xml(d: Date) -> str:
    return f"{d.month}/{d.day}"


def submit_x(t):
    return ("input", [("type", "submit")], t)


NBSP = 160  # Racket's nbsp symbol: the character entity

date_formlet = formlet(("div", "Month:", input_int, "Day:", input_int),
                       lambda month, day: Date(month, day))

travel_formlet = formlet(
    ("div",
     "Name:", input_string, NBSP,
     ("div",
      "Arrive:", date_formlet,
      "Depart:", date_formlet),
     *["1", "2", "3"],
     submit_x("Submit")),
    lambda name, arrive, depart: [name, arrive, depart])

DATE_DISPLAY = [("div", [], "Month:", In("input_0", "text"), "Day:", In("input_1", "text"))]


def travel_display(*between):
    return [("div", [], "Name:", In("input_0", "text"), *between,
             ("div", [], "Arrive:",
              ("div", [], "Month:", In("input_1", "text"), "Day:", In("input_2", "text")),
              "Depart:",
              ("div", [], "Month:", In("input_3", "text"), "Day:", In("input_4", "text"))),
             "1", "2", "3", ("input", [("type", "submit")], "Submit"))]


TRAVEL_BINDINGS = [B(b"input_0", b"Jay"), B(b"input_1", b"10"), B(b"input_2", b"6"),
                   B(b"input_3", b"10"), B(b"input_4", b"8")]


def test_date():
    assert date_to_xml(Date(1, 2)) == "1/2"
    assert formlet_display(date_formlet) == DATE_DISPLAY
    assert formlet_display(travel_formlet) == travel_display(NBSP)
    assert formlet_process(travel_formlet, make_request(TRAVEL_BINDINGS)) == \
        ["Jay", Date(10, 6), Date(10, 8)]


def test_date_values():
    """Racket's ``(values month day)``: a tuple."""
    date_values = formlet(("div", "Month:", input_int, "Day:", input_int),
                          lambda month, day: (month, day))
    travel_values = formlet(
        ("div",
         "Name:", input_string,
         ("div", "Arrive:", date_values, "Depart:", date_values),
         *["1", "2", "3"],
         submit_x("Submit")),
        lambda name, arrive, depart: (name, *arrive, *depart))
    assert formlet_display(date_values) == DATE_DISPLAY
    assert formlet_display(travel_values) == travel_display()
    assert formlet_process(travel_values, make_request(TRAVEL_BINDINGS)) == ("Jay", 10, 6, 10, 8)


# -- formlet* (formlets/formlet-star.rkt) ----------------------------------------------------

def make_test_bindings(*values):
    return [B(f"input_{i}".encode(), v) for i, v in enumerate(values)]


def check_formlet(f, display, args, result):
    assert formlet_display(f) == display
    assert formlet_process(f, make_request(make_test_bindings(*args))) == result


P_NAME = [("p", [], In("input_0", "text"))]


def test_formlet_star_simple():
    check_formlet(formlet_star(("p", star(input_string, "name")), lambda name: name),
                  P_NAME, [b"Jay"], ["Jay"])
    check_formlet(formlet_star(forest(("p", star(input_string, "name"))), lambda name: name),
                  P_NAME, [b"Jay"], ["Jay"])


def test_formlet_star_generated():
    check_formlet(formlet_star(("div", *[("p", star(input_string, "name")) for i in range(3)]),
                               lambda name: name),
                  [("div", [], *[("p", [], In(f"input_{i}", "text")) for i in range(3)])],
                  [b"Jay", b"Ness", b"Pokey"], ["Jay", "Ness", "Pokey"])
    check_formlet(formlet_star(("div", *[("p", star(input_string, "name")) for i in range(0)]),
                               lambda name: name),
                  [("div", [])], [], [])


TWO_NAMES_DISPLAY = [("div", [], *[("p", [], In(f"input_{2 * i}", "text"),
                                    In(f"input_{2 * i + 1}", "text")) for i in range(3)])]
TWO_NAMES_ARGS = [b"Jay", b"McCarthy", b"Ness", b"Ninten", b"Pokey", b"Porkey"]
TWO_NAMES_RESULT = ["Jay McCarthy", "Ness Ninten", "Pokey Porkey"]


@pytest.mark.parametrize("two_names", [
    formlet(forest(input_string, input_string), lambda first, last: (first, last)),
    formlet_star(forest(star(input_string, "first_name"), star(input_string, "last_name")),
                 lambda first_name, last_name: (first_name[0], last_name[0])),
])
def test_formlet_star_of_multiple_values(two_names):
    check_formlet(
        formlet_star(("div", *[("p", star(two_names, "first_name", "last_name"))
                               for i in range(3)]),
                     lambda first_name, last_name: [f + " " + la for f, la in
                                                    zip(first_name, last_name)]),
        TWO_NAMES_DISPLAY, TWO_NAMES_ARGS, TWO_NAMES_RESULT)


# -- formlets/stateless.rkt: its two servlets, run as stateful servlets --------------------
# (its serialization suite has no counterpart: Python formlets are not serialized)

def _action(page: str) -> str:
    return html.unescape(re.search(r'<form[^>]* action="([^"]*)"', page).group(1))


def _input_name(page: str) -> str:
    return re.search(r'<input[^>]* name="([^"]*)"', page).group(1)


def start_with_contracts(request):
    base = send_formlet(to_number(to_string(required(text_input()))))

    def page3(new_num):
        return response_xexpr(("html", ("head", ("title", "Page 3")),
                               ("body", ("p", str(base + new_num)))))

    add_formlet = formlet(("p", "Add what to ", str(base), "?", ("br",),
                           to_number(to_string(required(text_input())))),
                          page3)
    return send_suspend_dispatch(lambda embed_url: response_xexpr(
        ("html", ("head", ("title", "Page 2")),
         ("body",
          embed_formlet(embed_url, add_formlet),
          ("br",),
          ("a", [("href", embed_url(start_with_contracts))], "Restart")))))


def test_servlet_with_contracts(served):
    base = served(make(start_with_contracts))
    initial_page = requests.get(base + "/").text
    page2 = requests.post(base + _action(initial_page), data={_input_name(initial_page): "1"}).text
    page3 = requests.get(base + _action(page2), params={_input_name(page2): "2"}).text
    assert "<p>3</p>" in page3


def start_unsafe_servlet(request):
    def page2(given_string):
        return send_suspend_dispatch(lambda embed_url: response_xexpr(
            ("html", ("head", ("title", "Page 2")),
             ("body", ("p", given_string),
              ("div",
               ("a", [("id", "b"), ("href", embed_url(lambda req: response_xexpr(
                   ("html", ("head", ("title", "Bold")), ("body", ("b", given_string))))))],
                "Bold"),
               ("a", [("id", "i"), ("href", embed_url(lambda req: response_xexpr(
                   ("html", ("head", ("title", "Italic")), ("body", ("i", given_string))))))],
                "Italic"))))))

    return send_formlet(formlet(forest(to_string(required(text_input()))), page2))


def test_unsafe_servlet(served):
    base = served(make(start_unsafe_servlet))
    initial_page = requests.get(base + "/").text

    def interaction(text):
        page2 = requests.post(base + _action(initial_page),
                              data={_input_name(initial_page): text}).text
        assert f"<p>{text}</p>" in page2
        bold = re.search(r'id="b" href="([^"]*)"', page2).group(1)
        italic = re.search(r'id="i" href="([^"]*)"', page2).group(1)
        assert f"<b>{text}</b>" in requests.get(base + bold).text
        assert f"<i>{text}</i>" in requests.get(base + italic).text
        assert f"<b>{text}</b>" in requests.get(base + bold).text   # again: multi-shot

    interaction("apple")
    # Racket (stateless) submits the first form a second time ("cat"); here the rest of
    # send_formlet runs once, so the second submission gets the expiration page.
    again = requests.post(base + _action(initial_page), data={_input_name(initial_page): "cat"})
    assert again.status_code == 410 and "Sorry, this page has expired" in again.text
