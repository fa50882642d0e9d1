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

import re
from typing import Union

__all__ = ["CData", "Comment", "InvalidXexpr", "PI", "Xexpr", "xexpr_to_string"]


class CData(str):
    """Text written without escaping.  Racket: ``cdata``.  Jinja (markupsafe) takes it
    as safe HTML too: ``{{ CData(xexpr_to_string(x)) }}`` is not escaped again."""

    def __html__(self) -> str:
        return str(self)


class Comment(str):
    """An HTML comment, ``<!--text-->``.  Racket: ``comment``."""


class PI:
    """A processing instruction, ``<?target instruction?>``.  Racket: ``p-i``."""

    __slots__ = ("target", "instruction")

    def __init__(self, target: str, instruction: str) -> None:
        self.target, self.instruction = target, instruction

    def __repr__(self) -> str:
        return f"PI({self.target!r}, {self.instruction!r})"


class InvalidXexpr(TypeError, ValueError):
    """Not an x-expression.  Racket: ``exn:invalid-xexpr``.  ``node`` is the offending
    part, ``path`` the tags of the elements around it, outermost first."""

    path: list

    def __init__(self, problem: str, node: object) -> None:
        super().__init__(problem)
        self.problem, self.node, self.path = problem, node, []

    def __str__(self) -> str:
        where = " in <" + "> <".join(reversed(self.path)) + ">" if self.path else ""
        return f"not an x-expression{where}: {self.problem}"


Xexpr = Union[str, int, CData, Comment, PI, tuple, list]

# No closing tag in HTML: written <br /> when empty (Racket's html-empty-tags: <br/>).
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_RAW_TEXT = frozenset(("script", "style"))
_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def _is_attributes(item) -> bool:
    """Racket's ``has-attribute-pairs?``: a dict, or a list whose items are all pairs
    (their contents are checked when written)."""
    if type(item) is dict:
        return True
    if type(item) is not list:
        return False
    for pair in item:
        if type(pair) is not tuple and type(pair) is not list:
            return False
    return True


# Names already checked: pages reuse a few dozen tags and attributes, so each is matched
# against _NAME once rather than on every render.
_checked_names: set = set()


def _check_name(name, node, what: str) -> str:
    if type(name) is str and name in _checked_names:
        return name
    if not isinstance(name, str):
        raise InvalidXexpr(f"{what} must be a str, given {type(name).__name__} {name!r} "
                           f"in {node!r}", node)
    if not _NAME.match(name):
        raise InvalidXexpr(f"{name!r} is not a valid {what} in {node!r}", node)
    if type(name) is str and len(_checked_names) < 4096:
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


def _escape_attribute(text: str) -> str:
    # Racket's escape-attribute-table: < > & and the double quote.
    text = _escape_text(text)
    return text.replace('"', "&quot;") if '"' in text else text


def _valid_char(n: int) -> bool:
    """Racket's ``valid-char?``: a character XML allows."""
    return 1 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or 0x10000 <= n <= 0x10FFFF


def _write_attributes(node, attributes, out: list) -> None:
    pairs = attributes.items() if type(attributes) is dict else attributes
    seen = None
    for pair in pairs:
        if len(pair) != 2:
            raise InvalidXexpr(f"an attribute is a (name, value) pair, given {pair!r}", node)
        name, value = pair
        if type(name) is not str or name not in _checked_names:
            _check_name(name, node, "attribute name")
        if type(value) is not str:
            if not isinstance(value, str):
                raise InvalidXexpr(f"attribute {name!r} must have a str value, given "
                                   f"{type(value).__name__} {value!r}", node)
            value = str(value)
        if seen is None:
            seen = name
        elif type(seen) is str:
            if name == seen:
                raise InvalidXexpr(f"attribute {name!r} is given twice", node)
            seen = {seen, name}
        elif name in seen:
            raise InvalidXexpr(f"attribute {name!r} is given twice", node)
        else:
            seen.add(name)
        if "&" in value or "<" in value or ">" in value or '"' in value:
            value = _escape_attribute(value)
        out.append(f' {name}="{value}"')


def _write(x, out: list, raw: bool) -> None:
    # The hot path of every page: the common nodes (str, element) first, with as few
    # calls per node as the checks allow.
    kind = type(x)
    if kind is str:
        if raw:
            out.append(x.replace("</", "<\\/") if "</" in x else x)
        elif "&" in x or "<" in x or ">" in x:
            out.append(_escape_text(x))
        else:
            out.append(x)
    elif kind is tuple or kind is list:
        if not x:
            raise InvalidXexpr("an element needs a tag, given an empty "
                               f"{kind.__name__} {x!r}", x)
        tag = x[0]
        if type(tag) is not str or tag not in _checked_names:
            _check_name(tag, x, "tag")
        size = len(x)
        try:
            start = 1
            if size > 1:
                second = x[1]
                kind2 = type(second)
                if kind2 is list or kind2 is dict:
                    if _is_attributes(second):
                        out.append("<" + tag)
                        _write_attributes(x, second, out)
                        start = 2
                        if size == 2 and tag in _VOID:
                            out.append(" />")
                            return
                        out.append(">")
                    else:
                        out.append(f"<{tag}>")
                else:
                    out.append(f"<{tag}>")
            elif tag in _VOID:
                out.append(f"<{tag} />")
                return
            else:
                out.append(f"<{tag}></{tag}>")
                return
            inner_raw = tag in _RAW_TEXT
            for i in range(start, size):
                child = x[i]
                if type(child) is str and not inner_raw:
                    if "&" in child or "<" in child or ">" in child:
                        child = _escape_text(child)
                    out.append(child)
                else:
                    _write(child, out, inner_raw)
        except InvalidXexpr as exc:
            exc.path.append(tag)
            raise
        out.append(f"</{tag}>")
    elif isinstance(x, CData):
        out.append(x)
    elif isinstance(x, Comment):
        # HTML: these would end the comment early (or never let it start)
        if "-->" in x or "--!>" in x or x.startswith((">", "->")) or x.endswith("<!-"):
            raise InvalidXexpr(f"a comment cannot hold '-->' or '--!>', start with '>' or "
                               f"'->', or end with '<!-': {x!r}", x)
        out.append(f"<!--{x}-->")
    elif isinstance(x, str):
        _write(str(x), out, raw)
    elif kind is int:
        if not _valid_char(x):
            raise InvalidXexpr(f"{x} is not a valid character number (an int child is "
                               "a character entity: 1 to 0x10FFFF, no surrogates)", x)
        out.append(f"&#{x};")
    elif kind is PI:
        if "?>" in x.instruction:
            raise InvalidXexpr(f"a processing instruction cannot hold '?>': {x!r}", x)
        _check_name(x.target, x, "processing-instruction target")
        out.append(f"<?{x.target} {x.instruction}?>")
    else:
        raise InvalidXexpr("expected a str, an element (tuple or list), a character "
                           f"number, CData, Comment or PI, given {kind.__name__} {x!r}", x)


def xexpr_to_string(x: Xexpr) -> str:
    """Render ``x`` as HTML text; raise :class:`InvalidXexpr` if it is not an
    x-expression."""
    out: list[str] = []
    _write(x, out, False)
    return "".join(out)
