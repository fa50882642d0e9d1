"""Drive a dispatcher in tests, as werkzeug's test ``Client`` drives a WSGI app.

    client = Client(filter.make("^/hello", dispatch_servlet(start)))
    assert client.get("/hello").status_code == 200
    assert declines(filter.make("^/hello", ...), "/other")

Plain requests run without a socket.  WebSockets and event streams, as Starlette's
``websocket_connect``, run against a real server on ``127.0.0.1`` (an ephemeral port,
started for the session and stopped with it)::

    with client.websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello world!"

    with client.sse_connect("/events") as events:
        assert events.receive().data == "first"

:func:`websocket_connect` and :func:`sse_connect` do the same against any URL (a server
of your own, or one behind a proxy).
"""
from __future__ import annotations

import codecs
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Union
from urllib.parse import urlsplit

import gevent
from gevent import socket as gsocket
from werkzeug.test import Client as _WerkzeugClient
from werkzeug.test import EnvironBuilder

from .connection import Connection
from .core import Dispatcher, DispatcherNotApplicable
from .http.request import Request
from .wsgi import to_wsgi

__all__ = ["Client", "SSETestSession", "ServerSentEvent", "WebSocketDisconnect",
           "WebSocketTestSession", "declines", "run_dispatcher", "sse_connect",
           "websocket_connect"]

DEFAULT_TIMEOUT = 10.0


class Client(_WerkzeugClient):
    """werkzeug's test client around ``to_wsgi(dispatcher)``, with
    :meth:`websocket_connect` and :meth:`sse_connect` over a real socket."""

    def __init__(self, dispatcher: Dispatcher, **kwargs) -> None:
        self.dispatcher = dispatcher
        super().__init__(to_wsgi(dispatcher), **kwargs)

    def _serve(self) -> tuple[str, Callable[[], None]]:
        from .server import serve  # the server only for the sessions that need one

        stop = serve(self.dispatcher, port=0, listen_ip="127.0.0.1")
        return f"127.0.0.1:{stop.port}", lambda: stop(timeout=1)

    def websocket_connect(self, path: str, headers: Optional[Mapping[str, str]] = None,
                          protocols: Optional[list] = None,
                          timeout: float = DEFAULT_TIMEOUT) -> WebSocketTestSession:
        """Open a WebSocket to ``path`` (query string allowed) on a server started for
        this session; use it as a context manager.  A refused handshake raises
        :class:`dispatch.websocket.HandshakeFailed`."""
        address, stop = self._serve()
        try:
            return websocket_connect(f"ws://{address}{path}", headers, protocols,
                                     timeout=timeout, on_close=stop)
        except BaseException:
            stop()
            raise

    def sse_connect(self, path: str, headers: Optional[Mapping[str, str]] = None,
                    timeout: float = DEFAULT_TIMEOUT) -> SSETestSession:
        """Open an event stream at ``path`` on a server started for this session; use
        it as a context manager."""
        address, stop = self._serve()
        try:
            return sse_connect(f"http://{address}{path}", headers, timeout=timeout,
                               on_close=stop)
        except BaseException:
            stop()
            raise


def run_dispatcher(dispatcher: Dispatcher, path: str = "/", **builder_args) -> Connection:
    """Call ``dispatcher`` once on a request built by werkzeug's ``EnvironBuilder``
    and return the connection, whose ``response`` is what the dispatcher answered.
    :class:`DispatcherNotApplicable` propagates."""
    environ = EnvironBuilder(path=path, **builder_args).get_environ()
    conn = Connection(environ, _no_start_response)
    dispatcher(conn, Request(environ))
    return conn


def declines(dispatcher: Dispatcher, path: str = "/", **builder_args) -> bool:
    """Whether ``dispatcher`` declines the request (calls ``next_dispatcher``)."""
    try:
        run_dispatcher(dispatcher, path, **builder_args)
    except DispatcherNotApplicable:
        return True
    return False


def _no_start_response(status, headers, exc_info=None):
    raise RuntimeError("run_dispatcher does not send responses; use Client for that")


@contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """``TimeoutError`` after ``seconds``.  The timer raises gevent's own ``Timeout`` (not
    an ``OSError``), so that socket code in between, which treats ``OSError`` as a lost
    connection, cannot mistake it for one."""
    timer = gevent.Timeout(seconds)
    try:
        with timer:
            yield
    except gevent.Timeout as exc:
        if exc is not timer:
            raise
        raise TimeoutError(f"{what} in {seconds} s") from None


# -- WebSockets -----------------------------------------------------------------------------

class WebSocketDisconnect(Exception):
    """The server closed the WebSocket; ``code`` and ``reason`` are its close frame's."""

    def __init__(self, code: Optional[int] = 1000, reason: Optional[str] = "") -> None:
        super().__init__(f"the WebSocket closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


class WebSocketTestSession:
    """An open WebSocket, with Starlette's test-session method names."""

    def __init__(self, conn, timeout: float = DEFAULT_TIMEOUT,
                 on_close: Optional[Callable[[], None]] = None) -> None:
        self.conn = conn
        self.timeout = timeout
        self._on_close = on_close

    @property
    def subprotocol(self) -> Optional[str]:
        return self.conn.subprotocol

    def send(self, data: Union[str, bytes]) -> None:
        self.conn.send(data, payload_type="text" if isinstance(data, str) else "binary")

    def send_text(self, data: str) -> None:
        self.conn.send(data, payload_type="text")

    def send_bytes(self, data: bytes) -> None:
        self.conn.send(data, payload_type="binary")

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "binary":
            self.send_bytes(text.encode("utf-8"))
        else:
            self.send_text(text)

    def receive(self, timeout: Optional[float] = None) -> Union[str, bytes]:
        """The next message: ``str`` or ``bytes``.  Raises :class:`WebSocketDisconnect`
        once the server closed, ``TimeoutError`` after ``timeout`` seconds."""
        from .websocket.connection import EOF

        seconds = self.timeout if timeout is None else timeout
        with _deadline(seconds, "no WebSocket message"):
            message = self.conn.recv()
        if message is EOF:
            raise WebSocketDisconnect(self.conn.close_status, self.conn.close_reason)
        return message

    def receive_text(self, timeout: Optional[float] = None) -> str:
        message = self.receive(timeout)
        if not isinstance(message, str):
            raise AssertionError(f"expected a text message, got binary {message!r}")
        return message

    def receive_bytes(self, timeout: Optional[float] = None) -> bytes:
        message = self.receive(timeout)
        if not isinstance(message, bytes):
            raise AssertionError(f"expected a binary message, got text {message!r}")
        return message

    def receive_json(self, mode: str = "text", timeout: Optional[float] = None) -> Any:
        if mode == "binary":
            return json.loads(self.receive_bytes(timeout).decode("utf-8"))
        return json.loads(self.receive_text(timeout))

    @property
    def close_code(self) -> Optional[int]:
        return self.conn.close_status

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close (waiting briefly for the server's answer), then stop the session's
        server, if it has one."""
        try:
            self.conn.close(code, reason)  # does nothing once the connection is gone
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()

    def __enter__(self) -> WebSocketTestSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def websocket_connect(url: str, headers: Optional[Mapping[str, str]] = None,
                      protocols: Optional[list] = None, *, timeout: float = DEFAULT_TIMEOUT,
                      on_close: Optional[Callable[[], None]] = None) -> WebSocketTestSession:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``) as a test session."""
    from .websocket.client import ws_connect

    return WebSocketTestSession(ws_connect(url, headers, protocols, timeout=timeout),
                                timeout=timeout, on_close=on_close)


# -- server-sent events -----------------------------------------------------------------

@dataclass(frozen=True)
class ServerSentEvent:
    """One event as a browser's ``EventSource`` dispatches it.  ``id`` is the id field of
    this event (``None`` if it had none); ``retry`` its reconnection time in ms."""

    data: str
    event: str = "message"
    id: Optional[str] = None
    retry: Optional[int] = None


class _Dechunker:
    """HTTP/1.1 chunked transfer coding, bytes in, body bytes out (no I/O)."""

    def __init__(self) -> None:
        self.raw = b""
        self.remaining = -1  # -1: expecting a size line; -2: expecting CRLF after data
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.raw += data
        out = []
        while not self.done:
            if self.remaining == -1:
                line, found, rest = self.raw.partition(b"\r\n")
                if not found:
                    if len(self.raw) > 1024:
                        raise ValueError("malformed chunk size line")
                    break
                self.raw = rest
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    self.done = True
                    break
                self.remaining = size
            elif self.remaining == -2:
                if len(self.raw) < 2:
                    break
                if self.raw[:2] != b"\r\n":
                    raise ValueError("a chunk is not followed by CRLF")
                self.raw = self.raw[2:]
                self.remaining = -1
            else:
                if not self.raw:
                    break
                piece = self.raw[:self.remaining]
                self.raw = self.raw[len(piece):]
                self.remaining -= len(piece)
                out.append(piece)
                if self.remaining == 0:
                    self.remaining = -2
        return b"".join(out)


class _EventParser:
    """The event-stream parsing of the HTML standard, text in, events and comments out."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""
        self.first = True
        self.data: list[str] = []
        self.event = ""
        self.id: Optional[str] = None
        self.retry: Optional[int] = None
        self.last_event_id = ""

    def feed(self, data: bytes, final: bool = False) -> list:
        text = self.pending + self.decoder.decode(data, final)
        if self.first and text:
            text = text[1:] if text.startswith("\ufeff") else text
            self.first = False
        items = []
        start = 0
        while True:
            cr, lf = text.find("\r", start), text.find("\n", start)
            if cr == -1 and lf == -1:
                break
            end = lf if cr == -1 else cr if lf == -1 else min(cr, lf)
            if text[end] == "\r" and end + 1 == len(text) and not final:
                break  # a CR at the end may be the first half of CRLF
            step = 2 if text.startswith("\r\n", end) else 1
            item = self._line(text[start:end])
            if item is not None:
                items.append(item)
            start = end + step
        self.pending = text[start:]
        return items

    def _line(self, line: str):
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return _Comment(line[1:][1:] if line.startswith(": ") else line[1:])
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.event = value
        elif name == "id" and "\0" not in value:
            self.id = self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self):
        data, event, id_, retry = self.data, self.event, self.id, self.retry
        self.data, self.event, self.id, self.retry = [], "", None, None
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message", id_, retry)


class _Comment(str):
    pass


class SSETestSession:
    """An open event stream: ``status_code``, ``headers``, :meth:`receive` (the next
    event), :meth:`receive_comment` (the next comment line, heartbeats included);
    iterating yields events until the stream ends."""

    def __init__(self, sock, status_code: int, headers: dict, leftover: bytes,
                 timeout: float, on_close: Optional[Callable[[], None]] = None) -> None:
        self.sock = sock
        self.status_code = status_code
        self.headers = headers
        self.timeout = timeout
        self._on_close = on_close
        self._parser = _EventParser()
        self._events: list = []
        self._comments: list = []
        self._ended = False
        encoding = headers.get("transfer-encoding", "").lower()
        self._dechunker = _Dechunker() if "chunked" in encoding else None
        length = headers.get("content-length")
        self._left = int(length) if length is not None and self._dechunker is None else None
        self._take(leftover)

    @property
    def last_event_id(self) -> str:
        return self._parser.last_event_id

    def _take(self, data: bytes) -> None:
        if self._dechunker is not None:
            data = self._dechunker.feed(data)
            ended = self._dechunker.done
        elif self._left is not None:
            data = data[:self._left]
            self._left -= len(data)
            ended = self._left == 0
        else:
            ended = False
        for item in self._parser.feed(data, final=ended):
            (self._comments if isinstance(item, _Comment) else self._events).append(item)
        self._ended = self._ended or ended

    def _read_until(self, queue: list, timeout: Optional[float]):
        seconds = self.timeout if timeout is None else timeout
        with _deadline(seconds, "nothing on the event stream"):
            while not queue and not self._ended:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._parser.feed(b"", final=True)
                    self._ended = True
                    break
                self._take(data)
        if not queue:
            raise EOFError("the event stream ended")
        return queue.pop(0)

    def receive(self, timeout: Optional[float] = None) -> ServerSentEvent:
        """The next event; ``EOFError`` once the stream ended, ``TimeoutError`` after
        ``timeout`` seconds."""
        return self._read_until(self._events, timeout)

    def receive_comment(self, timeout: Optional[float] = None) -> str:
        """The next comment line (``: text`` gives ``"text"``), events kept meanwhile."""
        return str(self._read_until(self._comments, timeout))

    def ended(self, timeout: Optional[float] = None) -> bool:
        """Wait (bounded) for the server to end the stream, keeping what arrives."""
        try:
            with gevent.Timeout(self.timeout if timeout is None else timeout, False):
                while not self._ended:
                    data = self.sock.recv(65536)
                    if not data:
                        self._ended = True
                    else:
                        self._take(data)
        except OSError:
            self._ended = True
        return self._ended

    def __iter__(self) -> Iterator[ServerSentEvent]:
        while True:
            try:
                yield self.receive()
            except EOFError:
                return

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()

    def __enter__(self) -> SSETestSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def sse_connect(url: str, headers: Optional[Mapping[str, str]] = None, *,
                timeout: float = DEFAULT_TIMEOUT,
                on_close: Optional[Callable[[], None]] = None) -> SSETestSession:
    """GET ``url`` (``http://`` only) as an ``EventSource`` does and return the stream.
    ``headers`` may carry ``Last-Event-ID``."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"sse_connect takes http:// URLs, not {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}",
             "Accept: text/event-stream", "Cache-Control: no-cache"]
    for name, value in (headers or {}).items():
        if "\r" in name + value or "\n" in name + value:
            raise ValueError("a header cannot contain a line break")
        lines.append(f"{name}: {value}")
    sock = gsocket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
    try:
        sock.settimeout(None)  # bounded by receive()'s timeouts instead
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = b""
        with _deadline(timeout, "no response head"):
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed before answering")
                head += chunk
                if len(head) > 65536:
                    raise ConnectionError("the response head is too large")
        head, leftover = head.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        response_headers: dict = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        status_code = int(status_line.split(" ", 2)[1])
        return SSETestSession(sock, status_code, response_headers, leftover, timeout,
                              on_close)
    except BaseException:
        sock.close()
        raise
