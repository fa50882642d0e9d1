"""Responses to bytes: the status line, the header block and the body's framing.

A WSGI application gives a status string and a list of header pairs; :func:`head` checks
them (a CR, LF or NUL could split a header and forge a response: refused, never sent) and
adds what the framing needs: ``Content-Length`` when the length is known, chunked coding
for a streamed HTTP/1.1 body, and ``Connection`` as the connection's fate requires.
"""
from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Optional

__all__ = ["BadResponse", "CHUNKED", "CLOSE_DELIMITED", "LAST_CHUNK", "body_allowed",
           "chunk", "declared_length", "head", "http_date"]

#: framing values for :func:`head` besides a length
CHUNKED = -1
CLOSE_DELIMITED = -2
LAST_CHUNK = b"0\r\n\r\n"

_STATUS = re.compile(r"[1-5][0-9][0-9]( [\t -~\x80-\xff]*)?\Z")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Names checked once; the set stays small (a server answers with few distinct names).
_good_names: set = set()
# Headers the server owns: the framing is its own, whatever the application says.
_HOP_BY_HOP = frozenset(("transfer-encoding", "connection", "keep-alive"))


class BadResponse(ValueError):
    """The application's status or headers cannot be sent as they are."""


def body_allowed(status: str, method: str) -> bool:
    """Whether a response may carry a body (RFC 9110 6.4.1)."""
    return method != "HEAD" and status[0] != "1" and status[:3] not in ("204", "304")


def head(status: str, headers: list, framing: Optional[int], keep_alive: bool,
         http10: bool, date: str, upgrade: bool = False) -> tuple[bytes, bool, Optional[int]]:
    """The status line and header block, whether the connection stays open, and the
    application's own ``Content-Length`` (``None`` if it gave none).

    ``framing`` is the body's length, :data:`CHUNKED`, :data:`CLOSE_DELIMITED`, or
    ``None`` where the response has no body to frame (HEAD, 1xx, 204, 304): the
    application's own ``Content-Length``, if any, is sent as it is.  With ``upgrade``
    (a 101) the ``Connection`` and ``Upgrade`` fields are the application's.
    """
    if not _STATUS.match(status):
        raise BadResponse(f"malformed status {status!r}: a code 100-599 and a reason")
    lines = []
    declared = None
    has_date = False
    for name, value in headers:
        if name not in _good_names:
            if type(name) is not str or not _TOKEN.match(name):
                raise BadResponse(f"malformed header name {name!r}")
            if len(_good_names) < 1024:
                _good_names.add(name)
        lower = name.lower()
        if lower == "content-length":
            declared = _length(value)
        elif lower == "date":
            has_date = True
        elif lower in _HOP_BY_HOP and not upgrade:
            if lower == "connection" and "close" in value.lower():
                keep_alive = False
            continue
        lines.append(f"{name}: {value}\r\n")
    block = "".join(lines)
    # One line per header: any other CR or LF came from a value, and would split it.
    if block.count("\n") != len(lines) or block.count("\r") != len(lines) or "\0" in block:
        raise BadResponse("a header value contains CR, LF or NUL")
    if upgrade:
        pass
    elif framing is not None and framing >= 0:
        if declared is None:
            block += f"Content-Length: {framing}\r\n"
    elif framing == CHUNKED:
        block += "Transfer-Encoding: chunked\r\n"
    elif framing == CLOSE_DELIMITED:
        keep_alive = False
    if not keep_alive:
        if not http10:
            block += "Connection: close\r\n"
    elif http10:
        block += "Connection: keep-alive\r\n"
    if not has_date:
        block += f"Date: {date}\r\n"
    try:
        data = f"HTTP/1.1 {status}\r\n{block}\r\n".encode("latin-1")
    except UnicodeEncodeError as exc:
        raise BadResponse("status and headers must be latin-1 text") from exc
    return data, keep_alive, declared


def declared_length(headers: list) -> Optional[int]:
    """The application's own ``Content-Length``, if it gave one."""
    for name, value in headers:
        if len(name) == 14 and name.lower() == "content-length":
            return _length(value)
    return None


def _length(value: str) -> int:
    digits = value.strip()
    if not digits.isdigit() or not digits.isascii():
        raise BadResponse(f"malformed Content-Length {value!r}")
    return int(digits)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


_date: list = [0, ""]  # [second, its formatted date]


def http_date() -> str:
    """The Date header's value, formatted once a second rather than once a response."""
    now = int(time.time())
    if _date[0] != now:
        _date[:] = [now, formatdate(now, usegmt=True)]
    return _date[1]
