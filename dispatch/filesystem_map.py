"""Map URL paths to file paths.  Racket: ``web-server/dispatchers/filesystem-map``.

A ``url_to_path`` procedure takes the request's (decoded) URL path and returns
``(path, pieces)``; it raises :class:`PathEscape` (a ``ValueError``) for any path it
will not map, so that the files dispatcher declines.
"""
from __future__ import annotations

import os
from typing import Callable, Union

from .filter import Regex, path_searcher

__all__ = ["PathEscape", "filter_url_to_path", "make_url_to_path", "make_url_to_valid_path",
           "url_path_pieces"]

UrlToPath = Callable[[str], tuple]


class PathEscape(ValueError):
    """A URL path that would leave the root, or that no file can have."""


def url_path_pieces(url_path: str) -> list:
    """The segments of a URL path as Racket's ``url-path`` has them: path parameters
    (``;foo``) stripped, empty and ``.`` segments dropped, ``..`` kept."""
    pieces = []
    for segment in url_path.split("/"):
        segment = segment.split(";", 1)[0]
        if segment not in ("", "."):
            pieces.append(segment)
    return pieces


def _restrict(pieces: list) -> list:
    """Resolve ``..`` lexically; refuse one that climbs above the root (Racket's
    ``restrict``)."""
    kept: list = []
    for piece in pieces:
        if piece == "..":
            if not kept:
                raise PathEscape("'..' leads outside the root")
            kept.pop()
        else:
            kept.append(piece)
    return kept


def make_url_to_path(base: Union[str, os.PathLike]) -> UrlToPath:
    """Map URL paths under ``base``; never outside it.  Racket: ``make-url->path``.

    Path parameters (``;foo``) are stripped and a ``..`` that stays inside ``base`` is
    resolved, as Racket does.  Refused: a ``..`` that climbs out, backslashes, NUL bytes,
    and anything whose real path (symbolic links followed) is outside ``base``'s.
    """
    root = os.path.realpath(base)

    def url_to_path(url_path: str) -> tuple:
        if "\0" in url_path or "\\" in url_path:
            raise PathEscape(f"refused characters in {url_path!r}")
        try:
            pieces = _restrict(url_path_pieces(url_path))
        except PathEscape:
            raise PathEscape(f"{url_path!r} leads outside the root") from None
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
        pieces = url_path_pieces(url_path)
        for end in range(len(pieces), -1, -1):
            try:
                path, mapped = url_to_path("/" + "/".join(pieces[:end]))
            except ValueError:
                continue
            if os.path.isfile(path):
                return path, mapped
        raise PathEscape(f"no file along {url_path!r}")

    return url_to_valid_path


def filter_url_to_path(regex: Regex, url_to_path: UrlToPath) -> UrlToPath:
    """Map only URL paths whose *mapped file path* ``regex`` is found in (searched, as
    Racket's ``filter-url->path``); a ``bytes`` regex sees the path as UTF-8."""
    search = path_searcher(regex, "filter_url_to_path: regex")

    def filtered(url_path: str) -> tuple:
        path, pieces = url_to_path(url_path)
        if search(os.fspath(path)) is None:
            raise PathEscape(f"{path!r} does not pass the filter {regex!r}")
        return path, pieces

    return filtered
