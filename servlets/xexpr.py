"""X-expressions rendered as HTML.  Racket: ``xexpr->string`` from ``xml``.

An x-expression is a string (text, escaped), an int (a character entity), a
:class:`CData` (written as it is), or an element: a tuple or list whose first item is the
tag, optionally followed by an attribute list, then the children::

    ("textarea", [("readonly", "")])          # Racket: (textarea ([readonly ""]))
    ("p", {"class": "note"}, "a < b")         # a dict works as an attribute list too

The attribute list is the second item when it is a dict or a list of (name, value)
pairs, as Racket reads ``((name "value") ...)``.  Children of ``script`` and ``style``
are not escaped (a browser does not unescape them), but ``</`` inside them is written
``<\\/`` so that a string cannot end the element early.
"""
from __future__ import annotations

import re
from html import escape
from typing import Union

__all__ = ["CData", "Xexpr", "xexpr_to_string"]


class CData(str):
    """Text written without escaping.  Racket: ``cdata``."""


Xexpr = Union[str, int, CData, tuple, list]

# Racket writes these as <br />: they have no closing tag in HTML.
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_RAW_TEXT = frozenset(("script", "style"))
_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def _is_attributes(item) -> bool:
    if type(item) is dict:
        return True
    if type(item) is not list:
        return False
    for pair in item:
        if (type(pair) not in (tuple, list) or len(pair) != 2 or type(pair[0]) is not str
                or type(pair[1]) is not str):
            return False
    return True


# Names already checked: pages reuse a few dozen tags and attributes, so each is matched
# against _NAME once rather than on every render.
_checked_names: set = set()


def _check_name(name: str) -> str:
    if name not in _checked_names:
        if not _NAME.match(name):
            raise ValueError(f"not a valid tag or attribute name: {name!r}")
        if len(_checked_names) < 4096:
            _checked_names.add(name)
    return name


def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _write(x, out: list, raw: bool) -> None:
    kind = type(x)
    if kind is str:
        out.append((x.replace("</", "<\\/") if "</" in x else x) if raw else _escape_text(x))
    elif kind is tuple or kind is list:
        if not x or type(x[0]) is not str:
            raise TypeError(f"not an x-expression: {x!r}")
        tag = _check_name(x[0])
        out.append("<" + tag)
        start = 1
        if len(x) > 1 and _is_attributes(x[1]):
            attrs = x[1].items() if type(x[1]) is dict else x[1]
            for name, value in attrs:
                out.append(f' {_check_name(name)}="{escape(value, quote=True)}"')
            start = 2
        if start == len(x) and tag in _VOID:
            out.append(" />")
            return
        out.append(">")
        inner_raw = tag in _RAW_TEXT
        for i in range(start, len(x)):
            _write(x[i], out, inner_raw)
        out.append(f"</{tag}>")
    elif isinstance(x, CData):
        out.append(x)
    elif isinstance(x, str):
        _write(str(x), out, raw)
    elif kind is int:
        out.append(f"&#{x};")
    else:
        raise TypeError(f"not an x-expression: {x!r}")


def xexpr_to_string(x: Xexpr) -> str:
    """Render ``x`` as HTML text."""
    out: list[str] = []
    _write(x, out, False)
    return "".join(out)
