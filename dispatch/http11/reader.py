"""Requests from bytes: a sans-I/O reader on llhttp (``httptools``).

llhttp, the parser of Node.js, is strict about framing in its default mode: it refuses
Content-Length beside Transfer-Encoding, two Content-Length fields, anything but digits in
Content-Length, a Transfer-Encoding whose last coding is not ``chunked``, bare LF, obsolete
line folding, control bytes in field values and targets.  This module adds what llhttp
leaves to the server: the safety limits, Host, versions other than 1.0/1.1, transfer
codings other than ``chunked``, and the rule that nothing after a framing error is ever
parsed as a request.

Feed it bytes; it queues, in order, each request's :class:`Message` (its head at once, its
body as it arrives) and, at the first error, one :class:`ProtocolError`, after which it
reads nothing more.
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any, Optional, Union

import httptools

__all__ = ["Message", "ProtocolError", "RequestReader", "is_token"]

_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                   b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Request targets: visible ASCII only (RFC 9112 3.2; anything else is percent-encoded).
_BAD_TARGET = bytes(range(0x21)) + bytes(range(0x7f, 0x100))
# RFC 3986 host (reg-name or IP literal) and an optional port: no userinfo, no spaces.
_HOST = re.compile(rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=%]*|\[[0-9A-Fa-f:.vV]+\])(?::[0-9]*)?\Z")


def is_token(value: bytes) -> bool:
    """Whether ``value`` is an RFC 9110 token (a method, a field name)."""
    return bool(value) and all(byte in _TCHAR for byte in value)


class ProtocolError(Exception):
    """A request the server answers with ``status`` and then closes the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


class Message:
    """One request: its head, and its body as the reader has it so far."""

    __slots__ = ("method", "target", "version", "headers", "keep_alive", "upgrade",
                 "expect_continue", "content_length", "chunked", "body", "body_size",
                 "complete", "error", "host", "max_body", "form_data")

    def __init__(self) -> None:
        self.method = ""
        self.target = b""
        self.version = "1.1"
        #: the fields as received: (name, value) pairs of bytes
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = True
        #: llhttp stopped at the end of the head: the request asks for an upgrade
        self.upgrade = False
        self.expect_continue = False
        self.content_length: Optional[int] = None
        self.chunked = False
        #: body bytes received and not yet taken
        self.body: deque[bytes] = deque()
        self.body_size = 0
        #: the whole body has been received
        self.complete = False
        #: set when the body turns out to be malformed or too large
        self.error: Optional[ProtocolError] = None
        self.host: Optional[bytes] = None
        self.max_body: Optional[int] = None
        self.form_data = False  # multipart/form-data: the form-data limits apply


class RequestReader:
    """The requests of one connection.  Racket: ``read-request`` of ``web-server/http``.

    ``max_body`` and the head limits are :class:`~dispatch.safety_limits.SafetyLimits`'.
    """

    def __init__(self, max_line: int = 8192, max_headers: int = 100,
                 max_header: int = 8192, max_body: Optional[int] = 1024 * 1024,
                 max_form_body: Optional[int] = None) -> None:
        self.max_line = max_line
        self.max_headers = max_headers
        self.max_header = max_header
        self.max_body = max_body
        # multipart/form-data (uploads) has limits of its own, as in Racket
        self.max_form_body = max_body if max_form_body is None else max_form_body
        # A head larger than this cannot be within the limits: stop reading it.
        self.max_head = max_line + max_headers * (max_header + 4) + 4
        self.queue: deque[Union[Message, ProtocolError]] = deque()
        #: bytes after an upgrade request's head, not parsed (see :meth:`resume`)
        self.unparsed = b""
        self.dead = False  # an error was queued: nothing more is read
        self.paused = False  # at an upgrade request: see :meth:`resume`
        # (Any: None once closed)
        self._parser: Any = httptools.HttpRequestParser(self)
        self._message: Optional[Message] = None  # the one being parsed
        self._resuming: Optional[Message] = None
        self._in_head = False
        self._head_bytes = 0
        # bytes fed since a field last ended: llhttp holds a field until its end, so one
        # that never ends is caught here, at about the length limit of one
        self._since_field = 0
        self._field_done = False  # a field (or the head) ended in the feed in progress
        self._begun = 0  # requests begun in the feed in progress
        self._recent = b""  # the bytes of the feed in progress
        self._url_parts: list[bytes] = []
        self._url_size = 0
        self._header_count = 0
        self._between = b""  # the start of a request line, to tell bad methods apart

    @property
    def in_head(self) -> bool:
        """Whether part of a request head has arrived, and not the rest of it."""
        return self._in_head

    # -- feeding ------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse ``data``; what it completes is appended to :attr:`queue`."""
        if self.dead or not data:
            return
        if self.paused:  # stopped at an upgrade: keep the bytes for its owner
            self.unparsed += data
            return
        if self._message is None:
            self._between = data[:256]
        elif not self._in_head:
            self._between = b""  # a request may begin in this feed after a body ends
        elif self._in_head and not self._url_parts and len(self._between) < 256:
            self._between += data[:256]  # still in the method
        if self._in_head or self._message is None:
            self._head_bytes += len(data)
        self._field_done = False
        self._begun = 0
        self._recent = data
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # llhttp stops at the end of an upgrade request's head; its body, if any, and
            # what follows wait here for the upgrade or for resume().
            self.paused = True
            self.unparsed = data[upgrade.args[0]:]
            return
        except httptools.HttpParserCallbackError:
            if not self.dead:  # a callback's own error, already queued otherwise
                raise
            return
        except httptools.HttpParserInvalidMethodError:
            self._fail(self._bad_method())
            return
        except httptools.HttpParserError as exc:
            self._fail(_parser_error(str(exc)))
            return
        finally:
            self._recent = b""  # an idle connection keeps no bytes
        if self._field_done:
            self._since_field = 0  # (what followed the field in this feed is not counted)
        elif self._in_head:
            self._since_field += len(data)
        if self._in_head and (self._head_bytes > self.max_head or
                              self._since_field > self.max_line + self.max_header):
            self._fail(ProtocolError(431, "request head too large"))

    def feed_eof(self) -> None:
        """The client closed its side: a request cut short is an error, never served."""
        if self.dead:
            return
        if self._message is not None and not self._message.complete:
            self._fail(ProtocolError(400, "connection closed in the middle of a body"))
        elif self._in_head:
            self._fail(ProtocolError(400, "connection closed in the middle of a request head"))
        else:
            self.dead = True

    def close(self) -> None:
        """Read nothing more, and free the parser now: it holds this reader's callbacks,
        a reference cycle that only the garbage collector would break otherwise (a
        full collection that pauses every connection, when many were handed over)."""
        self.dead = True
        self._parser = None

    def resume(self, message: Message) -> None:
        """Go on after an upgrade request that nobody upgraded: read its body (if any)
        and the requests after it from the bytes kept in :attr:`unparsed`."""
        rest, self.unparsed, self.paused = self.unparsed, b"", False
        self._parser = httptools.HttpRequestParser(self)
        if message.chunked:
            framing = b"Transfer-Encoding: chunked\r\n"
        elif message.content_length:
            framing = b"Content-Length: %d\r\n" % message.content_length
        else:
            framing = None
        message.upgrade = False
        message.complete = framing is None
        if framing is not None:
            # A head of our own with the same framing, so that llhttp reads the body
            # into ``message`` and then the requests behind it.
            self._resuming = message
            self._parser.feed_data(b"PUT / HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n")
        self.feed(rest)

    # -- llhttp's callbacks -----------------------------------------------------------
    def on_message_begin(self) -> None:
        self._in_head = self._resuming is None
        self._head_bytes = 0
        self._begun += 1
        self._url_parts = []
        self._url_size = 0
        self._header_count = 0
        self._message = self._resuming or Message()

    def on_url(self, part: bytes) -> None:
        self._url_size += len(part)
        if self._url_size > self.max_line:
            self._fail(ProtocolError(414, "request target too long"))
            raise _Stop
        self._url_parts.append(part)  # llhttp may give the target in pieces

    def on_header(self, name: bytes, value: bytes) -> None:
        message: Message = self._message  # type: ignore[assignment]  # since on_message_begin
        self._header_count += 1
        if self._header_count > self.max_headers:
            self._fail(ProtocolError(431, f"more than {self.max_headers} header fields"))
            raise _Stop
        if len(name) + len(value) > self.max_header:
            self._fail(ProtocolError(431, f"a header field longer than {self.max_header} bytes"))
            raise _Stop
        self._field_done = True
        if self._resuming is not None:
            return  # our own framing head, or a chunked body's trailer (counted, dropped)
        if not self._in_head:
            return  # a trailer: counted against the limits above, not passed on
        message.headers.append((name, value.rstrip(b" \t")))

    def on_headers_complete(self) -> None:
        self._field_done = True
        if self._resuming is not None:
            self._resuming = None
            return
        message: Message = self._message  # type: ignore[assignment]  # since on_message_begin
        parser = self._parser
        message.method = parser.get_method().decode("ascii")
        if message.method == "CONNECT":
            self._fail(ProtocolError(501, "CONNECT is not supported: this is no proxy"))
            raise _Stop
        message.version = parser.get_http_version()
        message.keep_alive = parser.should_keep_alive()
        message.upgrade = parser.should_upgrade()
        target = b"".join(self._url_parts)
        if target.translate(None, _BAD_TARGET) != target:
            self._fail(ProtocolError(400, "a request target must be visible ASCII"))
            raise _Stop
        # llhttp also reads RTSP/ and ICE/ request lines; the version it reports does not
        # say which.  The line is in the bytes being fed unless the head spans feeds.
        line = self._recent.find(target + b" ")
        if line >= 0 and self._recent[line + len(target) + 1:line + len(target) + 6] \
                != b"HTTP/":
            self._fail(ProtocolError(400, "not an HTTP request"))
            raise _Stop
        # RFC 9112 3.2: no fragment in a target; one sent anyway is dropped.
        message.target = target.partition(b"#")[0] if b"#" in target else target
        error = _check_head(message)
        message.max_body = self.max_form_body if message.form_data else self.max_body
        limit = message.max_body
        if error is None and limit is not None and \
                message.content_length is not None and message.content_length > limit:
            error = ProtocolError(413, f"a body over {limit} bytes")
        if error is not None:
            self._fail(error)
            raise _Stop
        self._in_head = False
        self.queue.append(message)

    def on_body(self, data: bytes) -> None:
        message: Message = self._message  # type: ignore[assignment]  # since on_message_begin
        message.body_size += len(data)
        if message.max_body is not None and message.body_size > message.max_body:
            message.error = ProtocolError(413, f"a body over {message.max_body} bytes")
            self.dead = True
            raise _Stop
        message.body.append(data)

    def on_message_complete(self) -> None:
        message = self._message
        self._message = None
        if message is not None and not message.upgrade:
            message.complete = True

    # -- errors -------------------------------------------------------------------------
    def _fail(self, error: ProtocolError) -> None:
        self.dead = True
        message = self._message
        if message is not None and not self._in_head:
            message.error = error  # its head was queued: the body is what failed
        else:
            self.queue.append(error)

    def _bad_method(self) -> ProtocolError:
        line = _REQUEST_LINE.match(self._between.lstrip(b"\r\n")) if self._begun <= 1 \
            else None  # (a request begun after another in one feed: its start is unknown)
        if line is not None:  # llhttp knows only the registered methods
            return ProtocolError(501, "method not implemented")
        return ProtocolError(400, "a method must be a token")


# A request line whose method llhttp does not know: 501, not 400 (RFC 9110 9.1).
_REQUEST_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [!-~]+ HTTP/1\.[01]\r\n")


class _Stop(Exception):
    """Raised in a callback to stop llhttp after an error has been queued."""


def _parser_error(reason: str) -> ProtocolError:
    if reason == "Invalid HTTP version":
        return ProtocolError(505, "HTTP version not supported")
    return ProtocolError(400, reason)


def _check_head(message: Message) -> Optional[ProtocolError]:
    """What llhttp leaves to servers (RFC 9112 2.3, 3.2, 6.1)."""
    if message.version not in ("1.1", "1.0"):
        return ProtocolError(505, f"HTTP/{message.version} is not supported")
    hosts = 0
    codings: list = []
    for name, value in message.headers:
        lower = name.lower()
        if lower == b"host":
            hosts += 1
            message.host = value
        elif lower == b"content-length":
            message.content_length = int(value)
        elif lower == b"transfer-encoding":
            if message.version == "1.0":
                # RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
                # framing.
                return ProtocolError(400, "Transfer-Encoding in an HTTP/1.0 request")
            codings += [coding.strip(b" \t").lower() for coding in value.split(b",")]
        elif lower == b"expect":
            if value.lower() == b"100-continue":
                message.expect_continue = message.version == "1.1"
        elif lower == b"content-type":
            # multipart/form-data has limits of its own (the reader picks them by this)
            message.form_data = value[:19].lower() == b"multipart/form-data"
    if codings:
        if codings[-1] != b"chunked":
            # RFC 9112 6.3: the body's length cannot be known.
            return ProtocolError(400, "chunked must be the last transfer coding")
        if len(codings) > 1:
            return ProtocolError(501, "only the chunked transfer coding is supported")
        message.chunked = True
    if hosts > 1 or (hosts == 0 and message.version == "1.1"):
        return ProtocolError(400, "an HTTP/1.1 request needs exactly one Host field")
    if message.host and not _HOST.match(message.host):
        return ProtocolError(400, "Host is uri-host [ \":\" port ] (RFC 9112 3.2)")
    if message.target[:1] not in (b"/", b"*") and message.target[:7].lower() != b"http://" \
            and message.target[:8].lower() != b"https://":
        return ProtocolError(400, "request target in neither origin nor absolute form")
    return None
