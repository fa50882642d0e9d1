"""Raw-socket HTTP/1.1 helpers for the framing corpus (tests/http/).

The corpus sends exact bytes and judges what comes back: the status of every answer,
whether the server closed the connection (``recv`` returns ``b""``) within a bounded
time, and which requests the application saw (:class:`Recorder`).  Nothing here trusts
an HTTP client library: they normalise exactly what these tests look at.

A case (:class:`Case`) says what a correct server may do with its bytes:

* ``serve=Served(n, ...)``: ``n`` requests reach the application, each answered 2xx in
  order (bodies the application read, paths, a close afterwards where required);
* ``reject=Rejected(statuses, before)``: after ``before`` served requests, exactly one
  answer with a status in ``statuses`` and the connection closes; the application saw
  only the ``before`` requests (nothing after a framing error is ever executed);
* both: RFC 9112 leaves the choice (``CL+TE``: 400, or chunked then close).

``cut=True`` sends the bytes, then ends the client's side (EOF): an incomplete request
must never run, whatever the server answers (nothing, 400 or 408).
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

__all__ = ["CLOSE_WITHIN", "Case", "Conn", "Recorder", "Rejected", "Reply", "Served",
           "case_params", "parse_reply", "run_case", "with_host"]

#: How long a server may take to close after a framing error (seconds).  Generous: a
#: correct engine closes at once; this only bounds how long a failing test waits.
CLOSE_WITHIN = 2.0
#: Bound on waiting for any one answer (seconds).
REPLY_WITHIN = 5.0


@dataclass
class Reply:
    """One HTTP response as it came off the wire."""

    version: bytes
    status: int
    reason: bytes
    headers: list  # [(name bytes, value bytes)] in order, names as sent
    body: bytes
    raw_head: bytes
    chunked: bool = False
    trailers: list = field(default_factory=list)

    def all(self, name: str) -> list:
        key = name.lower().encode()
        return [v for k, v in self.headers if k.lower() == key]

    def get(self, name: str) -> Optional[bytes]:
        values = self.all(name)
        return values[0] if values else None

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.raw_head[:300]!r} body={self.body[:80]!r}>"


class _Incomplete(Exception):
    pass


def _parse_chunked(buf: bytes, pos: int, eof: bool) -> tuple:
    body, trailers = [], []
    while True:
        end = buf.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete
        size_text = buf[pos:end].split(b";", 1)[0].strip()
        size = int(size_text, 16)
        pos = end + 2
        if size == 0:
            break
        if len(buf) < pos + size + 2:
            raise _Incomplete
        body.append(buf[pos:pos + size])
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError(f"bad chunk ending in response: {buf[pos + size:pos + size + 2]!r}")
        pos += size + 2
    while True:
        end = buf.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete
        line = buf[pos:end]
        pos = end + 2
        if not line:
            return b"".join(body), trailers, pos
        name, _, value = line.partition(b":")
        trailers.append((name, value.strip()))


def parse_reply(buf: bytes, head: bool = False, eof: bool = False):
    """Parse one response at the start of ``buf``: ``(reply, bytes used)``, or ``None``
    while more bytes are needed.  A body framed by nothing runs to the close (``eof``)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if eof and buf:
            raise ValueError(f"response head cut by the close: {buf[:300]!r}")
        return None
    raw_head = buf[:end + 4]
    lines = buf[:end].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    status_text, _, reason = rest.partition(b" ")
    status = int(status_text)
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError(f"malformed response header line: {line!r}")
        headers.append((name, value.strip()))
    reply = Reply(version, status, reason, headers, b"", raw_head)
    pos = end + 4
    if head or 100 <= status < 200 or status in (204, 304):
        return reply, pos
    names = {k.lower() for k, _ in headers}
    try:
        if b"transfer-encoding" in names:
            reply.chunked = True
            reply.body, reply.trailers, pos = _parse_chunked(buf, pos, eof)
            return reply, pos
        if b"content-length" in names:
            length = int(reply.get("Content-Length"))
            if len(buf) < pos + length:
                raise _Incomplete
            reply.body = buf[pos:pos + length]
            return reply, pos + length
    except _Incomplete:
        if eof:
            raise ValueError(f"response body cut by the close: {buf[:300]!r}") from None
        return None
    if not eof:
        return None
    reply.body = buf[pos:]
    return reply, len(buf)


class Conn:
    """A client socket with a receive buffer and deadlines on every wait."""

    def __init__(self, port: int, timeout: float = REPLY_WITHIN, rcvbuf: int = 0) -> None:
        """``rcvbuf``: a small receive buffer (set before connecting, so that the window
        the server sees is small too), for a client that reads slowly."""
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.reset = False
        self.send_failed = False

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> bool:
        """Send all of ``data``; ``False`` if the server had already closed."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True
            return False

    def shut(self) -> None:
        """End the client's side: the server reads EOF."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _recv(self, deadline: float) -> bool:
        """Receive once before ``deadline``: ``False`` at EOF or when time is up."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def reply(self, head: bool = False, within: float = REPLY_WITHIN) -> Reply:
        """The next response (1xx included); AssertionError if none comes in time."""
        deadline = time.monotonic() + within
        while True:
            try:
                parsed = parse_reply(self.buf, head=head, eof=self.eof)
            except ValueError as exc:
                raise AssertionError(f"not a well-framed response ({exc}); "
                                     f"had {self.buf[:300]!r}") from None
            if parsed is not None:
                reply, used = parsed
                self.buf = self.buf[used:]
                return reply
            if not self._recv(deadline):
                if self.eof:
                    parsed = parse_reply(self.buf, head=head, eof=True)
                    if parsed is not None:
                        reply, used = parsed
                        self.buf = self.buf[used:]
                        return reply
                    raise AssertionError(f"connection closed before a response; had {self.buf!r}")
                raise AssertionError(f"no response within {within} s; had {self.buf[:300]!r}")

    def wait_for(self, marker: bytes, within: float = REPLY_WITHIN) -> bool:
        """Receive until ``marker`` is in the buffer; ``False`` if it never comes."""
        deadline = time.monotonic() + within
        while marker not in self.buf:
            if not self._recv(deadline):
                return marker in self.buf
        return True

    def closes(self, within: float = CLOSE_WITHIN) -> bool:
        """Whether the server closes the connection within ``within`` seconds (bytes that
        arrive meanwhile stay in ``buf``)."""
        deadline = time.monotonic() + within
        while self._recv(deadline):
            pass
        return self.eof

    def until_close(self, within: float = CLOSE_WITHIN, head: bool = False) -> tuple:
        """``(replies, closed)``: every response that arrived before the close (or before
        ``within`` ran out)."""
        closed = self.closes(within)
        replies = []
        while self.buf:
            parsed = parse_reply(self.buf, head=head, eof=closed)
            if parsed is None:
                break
            reply, used = parsed
            replies.append(reply)
            self.buf = self.buf[used:]
        return replies, closed


@dataclass
class Seen:
    method: str
    path: str
    query: bytes
    host: Optional[str]
    headers: list
    body: bytes

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (any case), as the app saw it."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class Recorder:
    """A servlet that records every request it runs and reads its body whole.

    It answers ``200`` with ``METHOD PATH LENGTH`` (Content-Length known).  ``seen`` is
    what the application executed: the corpus checks that nothing past a framing error,
    and nothing of a request cut short, is ever in it.
    """

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        #: every request the application was entered for, before its body is read
        self.entered: list[str] = []

    def start(self, request):
        from servlets import response_full

        self.entered.append(request.path)
        body = request.get_data()
        self.seen.append(Seen(request.method, request.path,
                              request.query_string, request.environ.get("HTTP_HOST"),
                              list(request.headers.items()), body))
        text = f"{request.method} {request.path} {len(body)}".encode("utf-8", "replace")
        return response_full(200, None, None, "text/plain", [], [text])

    def dispatcher(self):
        from servlets import dispatch_servlet

        return dispatch_servlet(self.start)


@dataclass
class Served:
    """``n`` requests reach the application and are answered 2xx in order."""

    n: int = 1
    bodies: Optional[list] = None  # the bodies the application read, exactly
    paths: Optional[list] = None  # the paths the application saw
    close: bool = False  # the server must close after the last answer
    check: Optional[Callable] = None  # check(seen, replies) for anything else


@dataclass
class Rejected:
    """One error answer in ``statuses`` after ``before`` served ones, then a close."""

    statuses: tuple = (400,)
    before: int = 0


@dataclass
class Case:
    id: str
    data: bytes
    serve: Optional[Served] = None
    reject: Optional[Rejected] = None
    cut: bool = False  # the client ends its side after the bytes (EOF)
    head: bool = False  # every request is HEAD: answers carry no body
    head_cut: bool = False  # the last head is incomplete: the app is never even entered
    source: str = ""  # where the case comes from (file and title, or issue/RFC)


def with_host(data: bytes, host: bytes = b"example.com") -> bytes:
    """Add ``Host`` to every HTTP/1.1 request head of ``data`` that lacks one.

    llhttp's and h11's corpora often omit Host (their parsers do not require it); an
    HTTP/1.1 server must answer 400 without it (RFC 9112 3.2), which the corpus tests
    on its own.  Here the case keeps testing what its source meant.
    """
    out, pos = [], 0
    while True:
        end = data.find(b" HTTP/1.1\r\n", pos)
        if end < 0:
            out.append(data[pos:])
            return b"".join(out)
        line_end = end + len(b" HTTP/1.1\r\n")
        head_end = data.find(b"\r\n\r\n", end)
        head = data[line_end:head_end if head_end >= 0 else len(data)]
        out.append(data[pos:line_end])
        if b"\nhost:" not in (b"\n" + head.lower()):
            out.append(b"Host: " + host + b"\r\n")
        pos = line_end


def run_case(port: int, recorder: Recorder, case: Case) -> None:
    """Send ``case.data`` on a new connection and assert one allowed outcome."""
    with Conn(port) as conn:
        conn.send(case.data)
        if case.cut:
            conn.shut()
        replies: list[Reply] = []
        closed = False
        serve, reject = case.serve, case.reject
        # A case that must be rejected has CLOSE_WITHIN for all of it: a correct server
        # answers and closes at once; a wrong one is not waited for any longer.
        deadline = time.monotonic() + (REPLY_WITHIN if serve is not None else CLOSE_WITHIN)
        while True:
            parsed = None
            try:
                parsed = parse_reply(conn.buf, head=case.head, eof=conn.eof)
            except ValueError:
                if not conn.eof:
                    raise
            if parsed is not None:
                reply, used = parsed
                conn.buf = conn.buf[used:]
                if reply.status >= 200:
                    replies.append(reply)
                if reply.status >= 400:
                    # an error answer: a correct server closes now
                    closed = conn.closes()
                    break
                if (serve is not None and not serve.close and not case.cut
                        and len(replies) >= serve.n):
                    break
                continue
            if conn.eof:
                closed = True
                break
            if not conn._recv(deadline):
                closed = conn.eof
                break
        seen = recorder.seen
        outcome = (f"\n  replies: {replies}\n  closed: {closed} (reset: {conn.reset})"
                   f"\n  left over: {conn.buf[:200]!r}"
                   f"\n  seen by the app: {[(s.method, s.path, s.body[:60]) for s in seen]}")
        errors = []
        if case.head_cut:
            expected = serve.n if serve is not None else reject.before if reject else 0
            if len(recorder.entered) != expected:
                errors.append(f"the application was entered {len(recorder.entered)} times, "
                              f"not {expected}: a request head cut by EOF was executed")
                serve = reject = None
        if serve is not None:
            problem = _served_problem(serve, replies, closed, seen, case.cut)
            if problem is None:
                return
            errors.append("served: " + problem)
        if reject is not None:
            problem = _rejected_problem(reject, replies, closed, seen, case.cut)
            if problem is None:
                return
            errors.append("rejected: " + problem)
        if serve is None and reject is None and not errors:  # cut, nothing to serve
            problem = _rejected_problem(Rejected((400, 408)), replies, closed, seen, True)
            if problem is None:
                return
            errors.append("cut: " + problem)
        raise AssertionError(f"{case.id} ({case.source}): " + "; ".join(errors) + outcome)


def _served_problem(serve: Served, replies, closed, seen, cut) -> Optional[str]:
    if len(seen) != serve.n:
        return f"the application ran {len(seen)} requests, not {serve.n}"
    if len(replies) < serve.n:
        return f"{len(replies)} answers, not {serve.n}"
    bad = [r.status for r in replies[:serve.n] if not 200 <= r.status < 300]
    if bad:
        return f"statuses {[r.status for r in replies]}"
    extra = replies[serve.n:]
    # After a cut (or bytes sent past a "close"), one 400/408 for the remnant is allowed:
    # it is an answer, not an executed request.
    if extra and not ((cut or serve.close) and len(extra) == 1
                      and extra[0].status in (400, 408)):
        return f"{len(extra)} answers more than requests"
    if serve.bodies is not None and [s.body for s in seen] != serve.bodies:
        return f"bodies read {[s.body for s in seen]!r}, expected {serve.bodies!r}"
    if serve.paths is not None and [s.path for s in seen] != serve.paths:
        return f"paths {[s.path for s in seen]!r}, expected {serve.paths!r}"
    if serve.close and not closed:
        return "the connection stayed open"
    if serve.check is not None:
        try:
            serve.check(seen, replies)
        except AssertionError as exc:
            return f"check failed: {exc}"
    return None


def _rejected_problem(reject: Rejected, replies, closed, seen, cut) -> Optional[str]:
    if len(seen) != reject.before:
        return (f"the application ran {len(seen)} requests, not {reject.before}: "
                "bytes past a framing error (or a cut request) were executed")
    ok = [r for r in replies[:reject.before] if 200 <= r.status < 300]
    if len(ok) != reject.before:
        return f"statuses {[r.status for r in replies]}"
    rest = replies[reject.before:]
    if cut:
        if any(r.status not in reject.statuses for r in rest) or len(rest) > 1:
            return f"answers after the cut: {[r.status for r in rest]}"
    elif len(rest) != 1 or rest[0].status not in reject.statuses:
        return (f"statuses {[r.status for r in replies]}, expected one of "
                f"{reject.statuses} after {reject.before} served")
    if not closed:
        return "the connection stayed open after the error"
    return None


def case_params(cases: list) -> list:
    """pytest.param for each case, with its id; ids must be unique."""
    import pytest

    # A case may come wrapped in pytest.param(case, marks=...): its marks are kept.
    unwrapped = [(c.values[0], c.marks) if hasattr(c, "marks") else (c, ()) for c in cases]
    ids = [c.id for c, _ in unwrapped]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate case ids: {dupes}"
    return [pytest.param(c, id=c.id, marks=marks) for c, marks in unwrapped]
