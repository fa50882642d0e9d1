"""X-expressions rendered as HTML.  Racket: ``xexpr->string`` from ``xml``.

An x-expression is a string (text, escaped), an int (a character entity: a valid XML
character number, as Racket's ``valid-char?``), a :class:`CData` (written as it is), a
:class:`Comment`, a :class:`PI` (processing instruction), or an element: a tuple or list
whose first item is the tag, optionally followed by an attribute list, then the
children::

    ("textarea", [("readonly", "")])          # Racket: (textarea ([readonly ""]))
    ("p", {"class": "note"}, "a < b")         # a dict works as an attribute list too

The second item is the attribute list when it is a dict, or a list whose items are all
pairs, as Racket reads ``((name "value") ...)``; attribute values are strings, and a name
may appear once.  Children of ``script`` and ``style`` are not escaped (a browser does
not unescape them), but ``</`` inside them is written ``<\\/`` so that a string cannot
end the element early.

What is not an x-expression raises :class:`InvalidXexpr` (a ``TypeError`` and a
``ValueError``) naming the offending node and the elements around it, as Racket's
``xexpr/c`` contract does.
"""
from __future__ import annotations

from .xexpr_nodes import PI, CData, Comment, InvalidXexpr, Xexpr
from .xexpr_writer import write_xexpr

__all__ = ["CData", "Comment", "InvalidXexpr", "PI", "Xexpr", "xexpr_to_string"]


def xexpr_to_string(x: Xexpr) -> str:
    """Render ``x`` as HTML text; raise :class:`InvalidXexpr` if it is not an
    x-expression."""
    return write_xexpr(x)
