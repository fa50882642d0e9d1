"""Map URL paths to file paths.  Racket: ``web-server/dispatchers/filesystem-map``.

A ``url_to_path`` procedure takes the request's (decoded) URL path and returns
``(path, pieces)``; it raises :class:`PathEscape` (a ``ValueError``) for any path it
will not map, so that the files dispatcher declines.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Union

__all__ = ["PathEscape", "filter_url_to_path", "make_url_to_path", "make_url_to_valid_path"]

UrlToPath = Callable[[str], tuple]


class PathEscape(ValueError):
    """A URL path that would leave the root, or that no file can have."""


def make_url_to_path(base: Union[str, os.PathLike]) -> UrlToPath:
    """Map URL paths under ``base``; never outside it.  Racket: ``make-url->path``.

    Refused: ``..`` and ``.`` segments, backslashes, NUL bytes, and anything whose real
    path (symbolic links followed) is outside ``base``'s.
    """
    root = os.path.realpath(base)

    def url_to_path(url_path: str) -> tuple:
        if "\0" in url_path or "\\" in url_path:
            raise PathEscape(f"refused characters in {url_path!r}")
        pieces = [p for p in url_path.split("/") if p]
        if any(p in (".", "..") for p in pieces):
            raise PathEscape(f"dot segments in {url_path!r}")
        path = os.path.join(root, *pieces)
        real = os.path.realpath(path)
        if real != root and not real.startswith(root + os.sep):
            raise PathEscape(f"{url_path!r} leads outside the root")
        return path, pieces

    return url_to_path


def make_url_to_valid_path(url_to_path: UrlToPath) -> UrlToPath:
    """The longest prefix of the URL path that maps to an existing file (what a servlet
    path with extra path info maps to).  Racket: ``make-url->valid-path``."""

    def url_to_valid_path(url_path: str) -> tuple:
        pieces = [p for p in url_path.split("/") if p]
        for end in range(len(pieces), 0, -1):
            path, mapped = url_to_path("/" + "/".join(pieces[:end]))
            if os.path.isfile(path):
                return path, mapped
        raise PathEscape(f"no file along {url_path!r}")

    return url_to_valid_path


def filter_url_to_path(regex: Union[str, re.Pattern], url_to_path: UrlToPath) -> UrlToPath:
    """Map only URL paths in which ``regex`` is found.  Racket: ``filter-url->path``."""
    search = re.compile(regex).search

    def filtered(url_path: str) -> tuple:
        if search(url_path) is None:
            raise PathEscape(f"{url_path!r} does not match {regex!r}")
        return url_to_path(url_path)

    return filtered
