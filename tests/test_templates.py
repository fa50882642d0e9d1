"""include_template: Racket's templates examples on Jinja2, with HTML escaping."""
import os

import pytest
import requests

from servlets import TEXT_HTML_MIME_TYPE, dispatch_servlet, include_template, response_full

jinja2 = pytest.importorskip("jinja2")

HERE = os.path.dirname(os.path.abspath(__file__))


def fast_template(thing):  # Racket's documentation: a template behind a function
    return include_template("templates/simple.html", thing=thing)


def test_relative_paths_are_taken_from_the_calling_module():
    page = fast_template("Templates")
    assert "<title>Fastest Templates in the West!</title>" in page
    assert "<h2>Bang!</h2>" in page
    assert page == include_template(os.path.join(HERE, "templates", "simple.html"),
                                    thing="Templates")


@pytest.mark.parametrize("thing, shown", [("Noodles", "Noodles"), (42, "42")])
def test_values_are_printed(thing, shown):
    assert f"Fastest {shown} in the West!" in fast_template(thing)


def test_html_is_escaped():
    page = fast_template('<script>alert("x")</script>')
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_a_template_inside_a_template_is_not_escaped_twice():
    page = fast_template(fast_template("Embedding"))
    assert page.count("<title>") == 2
    assert "Fastest Embedding in the West!" in page


def test_iteration():
    table = include_template("templates/clients.html",
                             clients=[("Young", "Brigham"), ("Smith", "Joseph")])
    assert table == ("<table>\n  <tr><td>Young, Brigham</td></tr>\n"
                     "  <tr><td>Smith, Joseph</td></tr>\n</table>\n")


def test_text_templates_are_not_escaped():
    assert include_template("templates/note.txt", name="<Al>") == "Dear <Al>,\n"


def test_undefined_variables_and_missing_files_are_errors():
    with pytest.raises(jinja2.UndefinedError):
        include_template("templates/typo.html")
    with pytest.raises(jinja2.TemplateNotFound):
        include_template("templates/absent.html")


def test_served_as_a_page(served):
    def start(req):
        return response_full(200, "Okay", None, TEXT_HTML_MIME_TYPE, [],
                             [fast_template(req.args.get("thing", "?")).encode()])

    base = served(dispatch_servlet(start))
    response = requests.get(base + "/", params={"thing": "<b>"}, timeout=5)
    assert "Fastest &lt;b&gt; in the West!" in response.text


def test_include_template_xml_goes_into_an_xexpr_unescaped(served):
    """Racket's templates.scrbl: `(html ,(include-template "static.html")) includes the
    text, escaped; include-template/xml includes the markup."""
    from servlets import CData, include_template_xml, response_xexpr, xexpr_to_string

    markup = include_template_xml("templates/simple.html", thing="<Templates>")
    assert isinstance(markup, CData)
    assert "Fastest &lt;Templates&gt; in the West!" in markup   # its values still escaped
    as_text = xexpr_to_string(("div", include_template("templates/simple.html", thing="T")))
    assert as_text.startswith("<div>&lt;html&gt;")
    base = served(dispatch_servlet(lambda req: response_xexpr(
        ("div", include_template_xml("templates/simple.html", thing=req.args["thing"])))))
    page = requests.get(base + "/", params={"thing": "<b>"}, timeout=5).text
    assert page.startswith("<div><html>") and "<h1>Bang!</h1>" in page
    assert "Fastest &lt;b&gt; in the West!" in page


# --- x-expressions and formlets in templates; response_template ---------------------------

def test_a_formlet_in_a_template_is_rendered_once_not_escaped(served):
    from servlets import CData, response_template, xexpr_to_string
    from servlets.formlets import formlet, formlet_display, formlet_process, input_string

    card = formlet(("div", "Title:", input_string), lambda title: title)

    def start(req):
        if req.method == "POST":
            return response_template("templates/form.html", {"headers": "h"},
                                     title=formlet_process(card, req), form=[],
                                     note="posted", code=201)
        return response_template(
            "templates/form.html", {"headers": "<i>a value named headers</i>"},
            title="<New card>", form=formlet_display(card),
            note=CData(xexpr_to_string(("em", "safe & sound"))),
            cookies=[], headers=[("X-Page", "board")])

    base = served(dispatch_servlet(start))
    page = requests.get(base + "/", timeout=5)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["X-Page"] == "board" and page.status_code == 200
    # the formlet once, as HTML; the values escaped; CData as it is
    assert '<form method="post"><div>Title:<input name="input_0" type="text" /></div></form>' \
        in page.text
    assert "<h1>&lt;New card&gt;</h1>" in page.text
    assert "<p><em>safe &amp; sound</em></p>" in page.text
    assert "&lt;i&gt;a value named headers&lt;/i&gt;" in page.text
    posted = requests.post(base + "/", data={"input_0": "<b>x</b>"}, timeout=5)
    assert posted.status_code == 201 and "<h1>&lt;b&gt;x&lt;/b&gt;</h1>" in posted.text


def test_xexpr_filter_takes_one_xexpr_or_a_forest():
    from servlets.templates import xexpr_html

    assert xexpr_html(("p", "a < b")) == "<p>a &lt; b</p>"
    assert xexpr_html(["p", "list element"]) == "<p>list element</p>"
    assert xexpr_html([("b", "1"), "&", ("i", "2")]) == "<b>1</b>&amp;<i>2</i>"
    assert xexpr_html([]) == ""
    assert hasattr(xexpr_html("x"), "__html__")


def test_response_template_for_text_and_bad_variables(served):
    from servlets import response_template

    base = served(dispatch_servlet(
        lambda req: response_template("templates/note.txt", name="<Al>")))
    note = requests.get(base + "/", timeout=5)
    assert note.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert note.text == "Dear <Al>,\n"
    with pytest.raises(TypeError, match="variables is a mapping"):
        response_template("templates/note.txt", ["name"])
