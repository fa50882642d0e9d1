"""The x-expression writer: HTML text from an x-expression, checking it on the way.

Compiled with mypyc (the hot path of every ``response_xexpr`` page) with this file as its
pure-Python twin.  The public name is :func:`dispatch.http.xexpr.xexpr_to_string`.
"""
from __future__ import annotations

import re
from typing import Optional

from .xexpr_nodes import PI, CData, Comment, InvalidXexpr

__all__ = ["write_xexpr"]


# No closing tag in HTML: written <br /> when empty (Racket's html-empty-tags: <br/>).
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_RAW_TEXT = frozenset(("script", "style"))
_NAME = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def _is_attributes(item: object) -> bool:
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


def _check_name(name, node, what: str) -> None:
    # Called once per tag and attribute name: the caches below keep what passed.
    if not isinstance(name, str):
        raise InvalidXexpr(f"{what} must be a str, given {type(name).__name__} {name!r} "
                           f"in {node!r}", node)
    if not _NAME.match(name):
        raise InvalidXexpr(f"{name!r} is not a valid {what} in {node!r}", node)


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


class _Tag:
    """What rendering a checked tag needs: ``<tag>``, ``<tag``, ``</tag>``, whether it
    is void, whether its text is raw.  (A class, not a tuple: compiled, its fields are
    read directly.)"""

    def __init__(self, tag: str) -> None:
        self.open = f"<{tag}>"
        self.lead = f"<{tag}"
        self.close = f"</{tag}>"
        self.void = tag in _VOID
        self.raw = tag in _RAW_TEXT


# Per checked tag, its _Tag. Pages reuse a few dozen tags: each is matched against _NAME
# once, when it enters here, and looking these up per element is cheaper than building
# the strings and testing the sets each time.
_tags: dict[str, _Tag] = {}
# Per checked attribute name, its ' name="'.
_attribute_leads: dict[str, str] = {}


def _tag_info(tag: object, node: object) -> _Tag:
    _check_name(tag, node, "tag")
    name = str(tag)
    info = _Tag(name)
    if type(tag) is str and len(_tags) < 4096:
        _tags[name] = info
    return info


def _write_attributes(node: object, attributes, out: list) -> None:
    pairs = attributes.items() if type(attributes) is dict else attributes
    first: object = None  # the first name; from the second on, a set of them
    seen: Optional[set] = None
    for pair in pairs:
        if len(pair) != 2:
            raise InvalidXexpr(f"an attribute is a (name, value) pair, given {pair!r}", node)
        name = pair[0]
        value = pair[1]
        lead = _attribute_leads.get(name) if type(name) is str else None
        if lead is None:
            _check_name(name, node, "attribute name")
            lead = f' {name}="'
            if type(name) is str and len(_attribute_leads) < 4096:
                _attribute_leads[name] = lead
        if type(value) is not str:
            if not isinstance(value, str):
                raise InvalidXexpr(f"attribute {name!r} must have a str value, given "
                                   f"{type(value).__name__} {value!r}", node)
            value = str(value)
        if seen is not None:
            if name in seen:
                raise InvalidXexpr(f"attribute {name!r} is given twice", node)
            seen.add(name)
        elif first is None:
            first = name
        elif name == first:
            raise InvalidXexpr(f"attribute {name!r} is given twice", node)
        else:
            seen = {first, name}
        out.append(lead)
        if "&" in value or "<" in value or ">" in value or '"' in value:
            value = _escape_attribute(value)
        out.append(value)
        out.append('"')


def _element(x, out: list) -> None:
    # The hot path of every page: str children and elements are handled here, with as
    # few calls per node as the checks allow; the rarer nodes go through _write.
    if not x:
        raise InvalidXexpr("an element needs a tag, given an empty "
                           f"{type(x).__name__} {x!r}", x)
    tag = x[0]
    info = _tags.get(tag) if type(tag) is str else None
    if info is None:
        info = _tag_info(tag, x)
    size: int = len(x)
    try:
        start = 1
        if size > 1:
            second = x[1]
            kind = type(second)
            if (kind is list or kind is dict) and _is_attributes(second):
                out.append(info.lead)
                _write_attributes(x, second, out)
                if size == 2 and info.void:
                    out.append(" />")
                    return
                out.append(">")
                start = 2
            else:
                out.append(info.open)
        elif info.void:
            out.append(info.lead + " />")
            return
        else:
            out.append(info.open + info.close)
            return
        if info.raw:
            for i in range(start, size):
                child = x[i]
                if type(child) is str:
                    out.append(child.replace("</", "<\\/") if "</" in child else child)
                else:
                    _write(child, out, True)
        else:
            for i in range(start, size):
                child = x[i]
                if type(child) is str:
                    if "&" in child or "<" in child or ">" in child:
                        child = _escape_text(child)
                    out.append(child)
                elif type(child) is tuple or type(child) is list:
                    _element(child, out)
                else:
                    _write(child, out, False)
    except InvalidXexpr as exc:
        exc.path.append(tag)
        raise
    out.append(info.close)


def _write(x, out: list, raw: bool) -> None:
    kind = type(x)
    if kind is str:
        if raw:
            out.append(x.replace("</", "<\\/") if "</" in x else x)
        elif "&" in x or "<" in x or ">" in x:
            out.append(_escape_text(x))
        else:
            out.append(x)
    elif kind is tuple or kind is list:
        _element(x, out)
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


def write_xexpr(x: object) -> str:
    """Render ``x`` as HTML text; raise :class:`InvalidXexpr` if it is not an
    x-expression.  (``object``: what is not an x-expression gets that error, not the
    compiled code's argument check.)"""
    out: list[str] = []
    _write(x, out, False)
    return "".join(out)
