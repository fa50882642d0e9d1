"""Responses to bytes: the status line, the header block and the body's framing.

Sans-I/O: nothing here touches a socket.  :class:`ResponseWriter` keeps one response's
state and returns the bytes to send; the engine (:mod:`dispatch.engine`) sends them.

A WSGI application gives a status string and a list of header pairs; :func:`head` checks
them (a CR, LF or NUL could split a header and forge a response: refused, never sent) and
adds what the framing needs: ``Content-Length`` when the length is known, chunked coding
for a streamed HTTP/1.1 body, and ``Connection`` as the connection's fate requires.
"""
from __future__ import annotations

import logging
import re
import time
from email.utils import formatdate
from typing import Optional, Union

__all__ = ["BadResponse", "CHUNKED", "CLOSE_DELIMITED", "COALESCE_LIMIT", "LAST_CHUNK",
           "ResponseWriter", "body_allowed", "chunk", "declared_length", "head", "http_date"]

log = logging.getLogger("dispatch.server")

#: framing values for :func:`head` besides a length
CHUNKED = -1
CLOSE_DELIMITED = -2
LAST_CHUNK = b"0\r\n\r\n"

_STATUS = re.compile(r"[1-5][0-9][0-9]( [\t -~\x80-\xff]*)?\Z")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# What the head does with a field, by its name: most are sent as they are; the server
# reads Content-Length and Date, and owns the framing (Transfer-Encoding, Connection,
# Keep-Alive), whatever the application says.
_PLAIN, _LENGTH, _DATE, _CONNECTION, _HOP = 0, 1, 2, 3, 4
_KINDS = {"content-length": _LENGTH, "date": _DATE, "connection": _CONNECTION,
          "transfer-encoding": _HOP, "keep-alive": _HOP}
# Names and statuses checked once; they stay few (a server answers with few distinct).
_kinds: dict = {}
_good_statuses: set = set()


def _kind_of(name) -> int:
    """Check a header name (a token) and tell what kind of field it is."""
    if type(name) is not str or not _TOKEN.match(name):
        raise BadResponse(f"malformed header name {name!r}")
    kind = _KINDS.get(name.lower(), _PLAIN)
    if len(_kinds) < 1024:
        _kinds[name] = kind
    return kind


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
    if status not in _good_statuses:
        if not _STATUS.match(status):
            raise BadResponse(f"malformed status {status!r}: a code 100-599 and a reason")
        if len(_good_statuses) < 1024:
            _good_statuses.add(status)
    lines = []
    declared = None
    has_date = False
    for name, value in headers:
        kind = _kinds.get(name)
        if kind is None:
            kind = _kind_of(name)
        if kind:
            if kind == _LENGTH:
                declared = _length(value)
            elif kind == _DATE:
                has_date = True
            elif not upgrade:  # hop-by-hop: the framing is the server's
                if kind == _CONNECTION and "close" in value.lower():
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


# Bodies up to this size leave in the same piece as the head (one send, one packet).
COALESCE_LIMIT = 64 * 1024


class ResponseWriter:
    """One response on its way out, as bytes: PEP 3333's ``start_response`` state (status,
    headers), how the body is framed, what is left of a declared length, and whether the
    connection stays open.  Each method returns the pieces to send, in order; the I/O
    layer only sends them (h11's writers work the same way).  One writer serves a
    connection's responses in turn (:meth:`reset`)."""

    __slots__ = ("method", "http10", "keep_alive", "status", "headers", "head_sent",
                 "framing", "remaining")

    def __init__(self, method: str = "GET", http10: bool = False,
                 keep_alive: bool = True) -> None:
        self.reset(method, http10, keep_alive)

    def reset(self, method: str, http10: bool, keep_alive: bool) -> None:
        """Start on the next request's response."""
        self.method = method
        self.http10 = http10
        #: whether the connection stays open after this response
        self.keep_alive = keep_alive
        #: the status line given to start_response (``None`` before)
        self.status: Optional[str] = None
        self.headers: list = []
        self.head_sent = False
        #: the body's framing once the head is out: a length, CHUNKED, CLOSE_DELIMITED,
        #: or None where no body is sent (HEAD, 1xx, 204, 304)
        self.framing: Optional[int] = None
        #: bytes still owed to a declared Content-Length
        self.remaining: Optional[int] = None

    def start(self, status: str, headers: list, exc_info=None) -> None:
        """PEP 3333's ``start_response``: remember the status and headers."""
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self.status = status
        self.headers = headers

    def whole(self, body: bytes) -> list:
        """The head and ``body``, the response's whole body (a WSGI result of one piece)."""
        if self.status is None:
            raise AssertionError("the application returned without start_response")
        if not body_allowed(self.status, self.method):
            return self._head(None, b"")
        if type(body) is not bytes:
            raise TypeError(f"a WSGI body yields bytes, not {type(body).__name__}")
        pieces = self._head(len(body), body)
        if self.remaining:
            log.error("response shorter than its Content-Length: connection closed")
            self.keep_alive = False
        return pieces

    def write(self, data: Union[bytes, bytearray, memoryview]) -> list:
        """A piece of a streamed body (the head goes first, framed by the application's
        Content-Length, else chunked, else for HTTP/1.0 by closing the connection)."""
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"a WSGI body yields bytes, not {type(data).__name__}")
            data = bytes(data)
        if not self.head_sent:
            if self.status is None:
                raise AssertionError("write() before start_response")
            if not body_allowed(self.status, self.method):
                return self._head(None, b"")
            length = declared_length(self.headers)  # before the head: the framing
            if length is not None:
                framing = length
            elif self.http10:
                framing = CLOSE_DELIMITED
            else:
                framing = CHUNKED
            return self._head(framing, data)
        if self.framing is None or not data:
            return []  # a HEAD, 204 or 304: the body is not sent
        if self.framing == CHUNKED:
            return [chunk(data)]
        if self.remaining is not None:
            if len(data) > self.remaining:
                log.error("response longer than its Content-Length: cut, connection closed")
                data = data[:self.remaining]
                self.keep_alive = False
            self.remaining -= len(data)
        return [data]

    def end(self) -> list:
        """What ends a streamed body: the head of an empty one, the last chunk, or
        nothing (a short body then closes the connection)."""
        if not self.head_sent:
            if self.status is None:
                raise AssertionError("the application returned without start_response")
            return self._head(0 if body_allowed(self.status, self.method) else None, b"")
        if self.framing == CHUNKED:
            return [LAST_CHUNK]
        if self.remaining is not None and self.remaining > 0:
            log.error("response shorter than its Content-Length: connection closed")
            self.keep_alive = False
        return []

    def upgrade(self, status: str, headers: list) -> bytes:
        """The head of a ``101``: the application's Connection and Upgrade fields stand."""
        if self.head_sent:
            raise RuntimeError("the response has already started")
        data, _, _ = head(status, headers, None, True, False, http_date(), upgrade=True)
        self.status, self.headers, self.head_sent = status, headers, True
        return data

    def detach(self, status: str, headers: list) -> bytes:
        """The head of a body that outlives the request and ends with the connection:
        chunked for HTTP/1.1, close-delimited for 1.0."""
        if self.head_sent:
            raise RuntimeError("the response has already started")
        self.status, self.headers = status, headers
        framing = CLOSE_DELIMITED if self.http10 else CHUNKED
        data, _, _ = head(status, headers, framing, False, self.http10, http_date())
        self.head_sent, self.framing, self.keep_alive = True, framing, False
        return data

    def _head(self, framing: Optional[int], body: bytes) -> list:
        data, self.keep_alive, declared = head(
            self.status, self.headers, framing,  # type: ignore[arg-type]  # started
            self.keep_alive, self.http10, http_date())
        self.head_sent = True
        self.framing = framing
        self.remaining = None
        if framing is not None and framing >= 0:
            self.remaining = (declared if declared is not None else framing) - len(body)
            if self.remaining < 0:
                log.error("response longer than its Content-Length: cut, connection closed")
                body = body[:len(body) + self.remaining]
                self.remaining = 0
                self.keep_alive = False
        if not body:
            return [data]
        if framing == CHUNKED:
            body = chunk(body)
        if len(body) <= COALESCE_LIMIT:
            return [data + body]
        return [data, body]
