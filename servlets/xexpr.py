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
_END_TAG = re.compile(r"</", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def _is_attributes(item) -> bool:
    if isinstance(item, dict):
        return True
    if not isinstance(item, list):
        return False
    for pair in item:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], str)):
            return False
    return True


# Names that passed _check_name: pages render the same few tags on every request, so each
# is checked by regex once.  Bounded, since names may come from data.
_CHECKED: set = set()


def _check_name(name: str) -> str:
    if name in _CHECKED:
        return name
    if not _NAME.match(name):
        raise ValueError(f"not a valid tag or attribute name: {name!r}")
    if len(_CHECKED) < 4096:
        _CHECKED.add(name)
    return name


def _write(x, out: list, raw: bool) -> None:
    kind = type(x)
    if kind is str:  # the common case first; CData and other str subclasses go below
        out.append(_END_TAG.sub(r"<\\/", x) if raw else escape(x, quote=False))
    elif (kind is tuple or kind is list) and x and type(x[0]) is str:
        _write_element(x, out)
    elif isinstance(x, CData):
        out.append(x)
    elif isinstance(x, str):
        out.append(_END_TAG.sub(r"<\\/", x) if raw else escape(x, quote=False))
    elif isinstance(x, bool):
        raise TypeError(f"not an x-expression: {x!r}")
    elif isinstance(x, int):
        out.append(f"&#{x};")
    elif isinstance(x, (tuple, list)) and x and isinstance(x[0], str):
        _write_element(x, out)
    else:
        raise TypeError(f"not an x-expression: {x!r}")


def _write_element(x, out: list) -> None:
    tag = _check_name(x[0])
    rest = x[1:]
    out.append("<" + tag)
    if rest and _is_attributes(rest[0]):
        attrs = rest[0].items() if isinstance(rest[0], dict) else rest[0]
        for name, value in attrs:
            out.append(f' {_check_name(name)}="{escape(value, quote=True)}"')
        rest = rest[1:]
    if not rest and tag in _VOID:
        out.append(" />")
        return
    out.append(">")
    inner_raw = tag in _RAW_TEXT
    for child in rest:
        _write(child, out, inner_raw)
    out.append(f"</{tag}>")


def xexpr_to_string(x: Xexpr) -> str:
    """Render ``x`` as HTML text."""
    out: list[str] = []
    _write(x, out, False)
    return "".join(out)
