"""Request headers as :class:`DispatchHandler` reads them.

gevent's pywsgi reads headers with ``http.client.parse_headers``, which hands the lines to
the ``email`` package's feed parser: a general MIME parser, and a fifth of the time of a
small request (80 us for a browser's eleven headers).  :func:`parse_headers` does the same
job in one pass over the lines and gives pywsgi the object it expects (``get``,
``getheader``, ``typeheader``, ``headers``, ``status``, ``del``).

It is stricter where RFC 9112 allows a server to be: a line folded onto the previous one
(obs-fold), a line without a colon, a name that is not a token (whitespace before the
colon included) and a value carrying CR or NUL make the request a 400, where the email
parser would fold the line or silently end the headers early.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

__all__ = ["MAX_HEADERS", "MAX_LINE", "RequestHeaders", "parse_headers"]

#: http.client's limits, which pywsgi had: longer lines or more headers are a 400.
MAX_LINE = 65536
MAX_HEADERS = 100

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_OWS = " \t"


class RequestHeaders:
    """The headers of one request, in order, with case-insensitive lookup.

    ``status`` is empty when the headers were read whole, else why they were refused
    (pywsgi answers 400 then).
    """

    __slots__ = ("items", "_first", "status")

    def __init__(self, items: list[tuple[str, str]], status: str = "") -> None:
        self.items = items
        self._first: dict[str, str] = {}
        for name, value in items:
            self._first.setdefault(name.lower(), value)
        self.status = status

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The first value of ``name``, as ``email.message.Message.get``."""
        return self._first.get(name.lower(), default)

    getheader = get

    @property
    def typeheader(self) -> Optional[str]:
        return self._first.get("content-type")

    @property
    def headers(self) -> list[str]:
        """The header lines, as pywsgi's message class gives them."""
        return [f"{name}: {value}\r\n" for name, value in self.items]

    def __delitem__(self, name: str) -> None:
        lower = name.lower()
        if lower not in self._first:
            raise KeyError(name)
        del self._first[lower]
        self.items = [(n, v) for n, v in self.items if n.lower() != lower]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._first

    def __iter__(self):
        return (name for name, _ in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"RequestHeaders({self.items!r}, status={self.status!r})"


def parse_headers(rfile, max_line: int = MAX_LINE, max_headers: int = MAX_HEADERS
                  ) -> RequestHeaders:
    """Read header lines from ``rfile`` up to and including the empty line."""
    return parse_lines(rfile.readline, max_line, max_headers)


def parse_lines(readline: Callable[[int], bytes], max_line: int = MAX_LINE,
                max_headers: int = MAX_HEADERS) -> RequestHeaders:
    """The sans-I/O core of :func:`parse_headers`: ``readline(limit)`` gives raw lines."""
    items: list[tuple[str, str]] = []
    for _ in range(max_headers + 1):
        raw = readline(max_line + 1)
        if len(raw) > max_line:
            return RequestHeaders([], "Line too long")
        if raw in (b"\r\n", b"\n", b""):
            return RequestHeaders(items)
        if len(items) == max_headers:
            break
        line = raw.decode("latin-1").rstrip("\r\n")
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name):
            # obs-fold (leading whitespace), no colon, or whitespace before it
            return RequestHeaders([], f"Invalid header line: {line[:100]!r}")
        value = value.strip(_OWS)
        if "\r" in value or "\x00" in value:
            return RequestHeaders([], f"Invalid header value: {line[:100]!r}")
        items.append((name, value))
    return RequestHeaders([], f"More than {max_headers} headers")
