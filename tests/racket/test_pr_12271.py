"""Racket's ``tests/web-server/pr/12271.rkt``: CDATA, processing instructions and
comments inside an x-expression (``write-xexpr``)."""
from __future__ import annotations

from servlets import CData, xexpr_to_string
from servlets.xexpr import PI, Comment


def test_cdata_pi_comment():
    page = ("html", ("head", ("title", "Form with CDATA")),
            ("body", ("p", "Hello, this is a form"),
             ("p", CData("<![CDATA[foo]]>")),
             ("p", PI("target", "instruction")),
             ("p", Comment("comment")),
             "Something"))
    assert xexpr_to_string(page).encode() == (
        b"<html><head><title>Form with CDATA</title></head><body><p>Hello, this is a form"
        b"</p><p><![CDATA[foo]]></p><p><?target instruction?></p><p><!--comment--></p>"
        b"Something</body></html>")
