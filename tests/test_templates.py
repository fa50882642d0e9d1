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
