"""Racket's ``xml/path`` (``se-path*``, ``se-path*/list``), which web-server-test calls
``simple-xpath*``, over the x-expressions of ``servlets.testing``: elements are
``(tag, [(name, value), ...], *children)``.

A path is tags, optionally ending in an attribute name written ``"#name"`` (Racket's
keyword ``#:name``). The first tag may be anywhere in the tree, each next one is a child
of the previous; the result is the matched elements' children (spliced), or the
attribute's values.
"""
from __future__ import annotations

from typing import Any


def _is_element(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) >= 2 and isinstance(x[0], str) \
        and isinstance(x[1], list)


def _at(path: tuple, x: Any) -> list:
    if not path:
        return [x]
    if not _is_element(x) or x[0] != path[0]:
        return []
    return _body(path[1:], x)


def _body(path: tuple, element: tuple) -> list:
    attributes, children = element[1], list(element[2:])
    if not path:
        return children
    if path[0].startswith("#"):
        return [v for k, v in attributes if k == path[0][1:]]
    return [found for child in children for found in _at(path, child)]


def se_path_list(path: tuple, x: Any) -> list:
    """Racket's ``se-path*/list``."""
    found = _at(path, x)
    if _is_element(x):
        for child in x[2:]:
            found += se_path_list(path, child)
    return found


def se_path(path: tuple, x: Any) -> Any:
    """Racket's ``se-path*``: the first of :func:`se_path_list`, or ``None``."""
    found = se_path_list(path, x)
    return found[0] if found else None
